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
    expect_choice('answer_q6', answer_q6, 'c', options='abcd', explanations={'a': 'Mais cabeças de indução copiam com mais força: no espelho, copiar é justamente o erro.', 'b': 'Na questão 5, sem as cabeças de indução o modelo copia menos, mas não passa a acertar; e perde o aprendizado em contexto onde copiar é o certo (texto repetido, tarefas de recuperação, os exemplos de um prompt).', 'd': 'Mais contexto só dá mais coisas para copiar; a regra do espelho continua sem ser aprendida.'})

