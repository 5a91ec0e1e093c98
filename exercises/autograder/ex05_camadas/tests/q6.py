from otter.test_files import test_case

OK_FORMAT = False

name = "q6"
points = 1

@test_case(points=0, hidden=False, 
    success_message="Formato válido. Se a alternativa está certa, só a correção (com testes ocultos) diz.")
def test_q6_format(answer_q6):
    from induction_heads.grading.checks import expect_option
    expect_option('answer_q6', answer_q6, 'abcd')

@test_case(points=1, hidden=True)
def test_q6_answer(answer_q6):
    from induction_heads.grading.checks import expect_choice
    expect_choice('answer_q6', answer_q6, 'b', options='abcd', explanations={'a': 'A atenção causal deixa toda posição olhar para as anteriores (e para si mesma); a camada 0 do toy-2l tem até uma cabeça de token anterior.', 'c': 'O número de cabeças não resolve: toda cabeça da camada 0 calcula a chave a partir do mesmo fluxo residual, que só tem o token e a posição.', 'd': 'No GPT-2 (e nos modelos do curso), cada bloco aplica a atenção antes da MLP; e a posição não some.'})

