from otter.test_files import test_case

OK_FORMAT = False

name = "q5"
points = 3

@test_case(points=0, hidden=False, 
    success_message="Formato válido. Se as respostas estão certas, só a correção (com testes ocultos) diz.")
def test_q5_format(n_top1_1024, answer_q5a, answer_q5b):
    from induction_heads.grading.checks import expect_option, fail, require_answer
    require_answer('n_top1_1024', n_top1_1024)
    if isinstance(n_top1_1024, bool) or not isinstance(n_top1_1024, int):
        fail(f'`n_top1_1024` deveria ser um número inteiro, mas é {n_top1_1024!r}.')
    expect_option('answer_q5a', answer_q5a, 'abcd')
    expect_option('answer_q5b', answer_q5b, 'abcd')

