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

@test_case(points=1, hidden=True)
def test_q4_difference(diferenca_medida):
    from induction_heads.exercises.ex01_few_shot.checks import recall_accuracies
    from induction_heads.grading.checks import expect_close
    acc = recall_accuracies()
    expect_close('`diferenca_medida`', diferenca_medida, acc['toy-2l'] - acc['toy-1l'], 0.02, hint='É a acurácia do toy-2l menos a do toy-1l, medidas na questão 3.')

@test_case(points=1, hidden=True)
def test_q4_answer(answer_q4):
    from induction_heads.grading.checks import expect_choice
    expect_choice('answer_q4', answer_q4, 'b', options='abcd', explanations={'a': 'Os rótulos são sorteados em cada prompt: não há pares a decorar no treino. E a ablação de poucas cabeças, sem mudar o número de parâmetros úteis para o resto, derruba a acurácia do toy-2l.', 'c': 'Uma cabeça de atenção olha para qualquer posição anterior do contexto, perto ou longe, já na primeira camada; o problema é saber para qual olhar.', 'd': 'Os rótulos mudam em cada prompt; e a cabeça de indução não guarda tokens, ela copia o que está no contexto.'})

