from otter.test_files import test_case

OK_FORMAT = False

name = "q1"
points = 2

@test_case(points=0, hidden=False, 
    success_message="Formato válido. Se as alternativas estão certas, só a correção (com testes ocultos) diz.")
def test_q1_format(answer_q1a, answer_q1b):
    from induction_heads.grading.checks import expect_option
    expect_option('answer_q1a', answer_q1a, 'abcd')
    expect_option('answer_q1b', answer_q1b, 'abcd')

