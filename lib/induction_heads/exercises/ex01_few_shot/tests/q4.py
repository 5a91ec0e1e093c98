from otter.test_files import test_case

OK_FORMAT = False

name = "q4"
points = 2

@test_case(points=0, hidden=False, 
    success_message="Formato válido. Os valores são conferidos na correção (testes ocultos).")
def test_q4_format(diferenca_medida, answer_q4):
    from induction_heads.grading.checks import expect_option, fail, require_answer
    require_answer('diferenca_medida', diferenca_medida)
    if isinstance(diferenca_medida, bool) or not isinstance(diferenca_medida, (int, float)):
        fail(f'`diferenca_medida` deveria ser um número, mas é {diferenca_medida!r}.')
    expect_option('answer_q4', answer_q4, 'abcd')

