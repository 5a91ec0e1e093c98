from otter.test_files import test_case

OK_FORMAT = False

name = "q1"
points = 2

@test_case(points=0, hidden=False, 
    success_message="Previsão registrada. Ela é comparada com a medição na correção (testes ocultos).")
def test_q1_format(previsao_q1, previsao_diferenca):
    from induction_heads.grading.checks import expect_option, fail, require_answer
    expect_option('previsao_q1', previsao_q1, 'abc')
    require_answer('previsao_diferenca', previsao_diferenca)
    if isinstance(previsao_diferenca, bool) or not isinstance(previsao_diferenca, (int, float)):
        fail(f'`previsao_diferenca` deveria ser um número, mas é {previsao_diferenca!r}.')
    if not -1 <= previsao_diferenca <= 1:
        fail(f'`previsao_diferenca` é uma diferença de acurácias: fica entre -1 e 1, não {previsao_diferenca}.')

@test_case(points=1, hidden=True)
def test_q1_direction(previsao_q1):
    from induction_heads.exercises.ex01_few_shot.checks import recall_accuracies
    from induction_heads.grading.checks import expect_choice
    acc = recall_accuracies()
    diff = acc['toy-2l'] - acc['toy-1l']
    right = 'a' if diff > 0.2 else 'c' if diff < -0.2 else 'b'
    measured = f"Medido: toy-2l {acc['toy-2l']:.2f}, toy-1l {acc['toy-1l']:.2f}, diferença {diff:+.2f}."
    expect_choice('previsao_q1', previsao_q1, right, options='abc', explanations={o: measured for o in 'abc'})

@test_case(points=1, hidden=True)
def test_q1_number(previsao_diferenca):
    from induction_heads.exercises.ex01_few_shot.checks import recall_accuracies
    from induction_heads.grading.checks import expect_close
    acc = recall_accuracies()
    diff = acc['toy-2l'] - acc['toy-1l']
    expect_close('a sua previsão da diferença (`previsao_diferenca`)', previsao_diferenca, diff, 0.25, hint=f"(o esperado é a diferença medida: toy-2l {acc['toy-2l']:.2f} − toy-1l {acc['toy-1l']:.2f}).")

