from otter.test_files import test_case

OK_FORMAT = False

name = "q6"
points = 1

@test_case(points=0, hidden=False, 
    success_message="Formato válido. Se a alternativa está certa, só a correção (com testes ocultos) diz.")
def test_q6_format(answer_q6):
    from induction_heads.grading.checks import expect_option
    expect_option('answer_q6', answer_q6, 'abcd')

