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

