from otter.test_files import test_case

OK_FORMAT = False

name = "q3"
points = 1

@test_case(points=0, hidden=False, 
    success_message="Formato válido. Se a alternativa está certa, só a correção (com testes ocultos) diz.")
def test_q3_format(answer_q3):
    from induction_heads.grading.checks import expect_option
    expect_option('answer_q3', answer_q3, 'abcd')

@test_case(points=1, hidden=True)
def test_q3_answer(answer_q3):
    from induction_heads.grading.checks import expect_choice
    expect_choice('answer_q3', answer_q3, 'a', options='abcd', explanations={'b': 'Isso descreve a composição Q. A chave borrada não mexe no circuito OV: a cabeça ainda precisa copiar o token para o qual olha.', 'c': 'A composição acontece pelo fluxo residual, entre cabeças de atenção; uma MLP não é necessária, e a chave borrada não faz o papel de uma.', 'd': 'A chave borrada mistura a chave com a da posição anterior; os embeddings de posição continuam lá.'})

