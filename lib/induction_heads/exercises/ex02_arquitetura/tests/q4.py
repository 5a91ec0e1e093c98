from otter.test_files import test_case

OK_FORMAT = False

name = "q4"
points = 3

@test_case(points=0, hidden=False, 
    success_message="Previsão registrada e formato válido. Os valores são conferidos na correção (testes ocultos).")
def test_q4_format(previsao_q4, pm_sem_token_anterior, pm_controle):
    from induction_heads.grading.checks import expect_option, fail, require_answer
    expect_option('previsao_q4', previsao_q4, 'abcd')
    for name, value in (('pm_sem_token_anterior', pm_sem_token_anterior), ('pm_controle', pm_controle)):
        require_answer(name, value)
        if hasattr(value, 'item') and getattr(value, 'ndim', 1) == 0:
            value = value.item()
        if isinstance(value, bool) or not isinstance(value, (int, float)) or (not 0 <= value <= 1):
            fail(f'`{name}` deveria ser uma pontuação (um número entre 0 e 1), mas é {value!r}.')

