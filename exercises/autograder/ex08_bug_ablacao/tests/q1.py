from otter.test_files import test_case

OK_FORMAT = False

name = "q1"
points = 1

@test_case(points=0, hidden=False, 
    success_message="Formato válido. Se a alternativa está certa, só a correção (com testes ocultos) diz.")
def test_q1_format(answer_q1):
    from induction_heads.grading.checks import expect_option
    expect_option('answer_q1', answer_q1, 'abcd')

@test_case(points=1, hidden=True)
def test_q1_answer(answer_q1):
    from induction_heads.grading.checks import expect_choice
    expect_choice('answer_q1', answer_q1, 'c', options='abcd', explanations={'a': 'Essa seria a ablação correta (as colunas h*d_head:(h+1)*d_head), mas o código indexa a primeira dimensão do peso, as linhas, e em blocos de hidden_size = 768, não de d_head = 64.', 'b': 'O código indexa linhas, sim, mas em blocos de hidden_size = 768 linhas, não de d_head = 64: o bloco do índice 0 já são as 768 linhas.', 'd': 'Fatiar além do fim não é erro no PyTorch (nem em listas do Python): weight[2304:3072] tem 0 linhas e a atribuição não faz nada. Teste no modelo de brinquedo acima.'})

