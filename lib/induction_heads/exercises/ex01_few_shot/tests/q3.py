from otter.test_files import test_case

OK_FORMAT = False

name = "q3"
points = 3

@test_case(points=0, hidden=False, 
    success_message="Formato válido. Os valores são conferidos na correção (testes ocultos).")
def test_q3_format(acc_2l, acc_1l, cabecas_inducao, acc_2l_ablacao):
    from induction_heads.grading.checks import fail, require_answer
    from induction_heads.grading.checks_extra import as_heads
    for name, value in (('acc_2l', acc_2l), ('acc_1l', acc_1l), ('acc_2l_ablacao', acc_2l_ablacao)):
        require_answer(name, value)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or (not 0 <= value <= 1):
            fail(f'`{name}` deveria ser uma acurácia (um número entre 0 e 1), mas é {value!r}.')
    as_heads('cabecas_inducao', cabecas_inducao)

