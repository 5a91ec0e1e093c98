from otter.test_files import test_case

OK_FORMAT = False

name = "q3"
points = 2

@test_case(points=0, hidden=False, 
    success_message="Formato válido. Os valores são conferidos na correção (testes ocultos).")
def test_q3_format(perda_limpa, perda_zero, perda_media):
    from induction_heads.grading.checks import fail, require_answer
    for name, value in (('perda_limpa', perda_limpa), ('perda_zero', perda_zero), ('perda_media', perda_media)):
        require_answer(name, value)
        if hasattr(value, 'item') and getattr(value, 'ndim', 1) == 0:
            value = value.item()
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            fail(f'`{name}` deveria ser uma perda (um número não negativo), mas é {value!r}.')

@test_case(points=1, hidden=True)
def test_q3_zero(perda_limpa, perda_zero):
    from induction_heads.exercises.ex04_identificacao.checks import ablation_measurements
    from induction_heads.grading.checks import expect_close
    m = ablation_measurements(2)
    expect_close('`perda_limpa`', perda_limpa, m['clean'], 0.01, hint='É `repeat_loss(model, sonda, 25)` sem ablação.')
    hint = None
    if perda_zero is not None and abs(float(perda_zero) - m['clean']) < 1e-06:
        hint = 'Esse é o valor sem ablação: meça dentro do bloco `with ablate_heads(...)`.'
    expect_close('`perda_zero`', perda_zero, m['zero'], 0.01, hint=hint)

@test_case(points=1, hidden=True)
def test_q3_mean(perda_media):
    from induction_heads.exercises.ex04_identificacao.checks import ablation_measurements
    from induction_heads.grading.checks import expect_close
    m = ablation_measurements(2)
    expect_close('`perda_media`', perda_media, m['mean'], 0.01, hint='Use `method="mean"` e `reference=referencia` (o lote com seed=1), não a própria sonda.')

