from otter.test_files import test_case

OK_FORMAT = False

name = "q3"
points = 3

@test_case(points=0, hidden=False, 
    success_message="Formato válido. Os valores são conferidos na correção (testes ocultos).")
def test_q3_format(melhor_pm_1l, melhor_pm_2l, cabeca_inducao, cabeca_token_anterior):
    from induction_heads.grading.checks import fail, require_answer
    from induction_heads.grading.checks_extra import as_heads
    for name, value in (('melhor_pm_1l', melhor_pm_1l), ('melhor_pm_2l', melhor_pm_2l)):
        require_answer(name, value)
        if hasattr(value, 'item') and getattr(value, 'ndim', 1) == 0:
            value = value.item()
        if isinstance(value, bool) or not isinstance(value, (int, float)) or (not 0 <= value <= 1):
            fail(f'`{name}` deveria ser uma pontuação (um número entre 0 e 1), mas é {value!r}.')
    as_heads('[cabeca_inducao]', [cabeca_inducao])
    as_heads('[cabeca_token_anterior]', [cabeca_token_anterior])

