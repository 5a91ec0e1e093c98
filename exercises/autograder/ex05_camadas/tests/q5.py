from otter.test_files import test_case

OK_FORMAT = False

name = "q5"
points = 1

@test_case(points=0, hidden=False, 
    success_message="Formato válido. Se a alternativa está certa, só a correção (com testes ocultos) diz.")
def test_q5_format(answer_q5):
    from induction_heads.grading.checks import expect_option
    expect_option('answer_q5', answer_q5, 'abcd')

@test_case(points=1, hidden=True)
def test_q5_answer(answer_q5):
    from induction_heads.grading.checks import expect_choice
    expect_choice('answer_q5', answer_q5, 'b', options='abcd', explanations={'a': 'As cabeças citadas estão nas camadas 5, 6 e 7; as camadas depois delas ainda processam o que elas copiam.', 'c': 'Nenhuma das cabeças citadas está na camada 0, e isso não é acaso: veja a questão 6.', 'd': 'As cabeças citadas se concentram nas camadas 5 a 7; a camada importa, porque uma cabeça de indução depende do que as camadas anteriores escreveram.'})

