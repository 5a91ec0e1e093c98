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

