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

@test_case(points=1, hidden=True)
def test_q4_prediction(previsao_q4):
    from induction_heads.exercises.ex02_arquitetura.checks import circuit_measurements
    from induction_heads.grading.checks import expect_choice
    m = circuit_measurements()
    clean, ablated = (m['pm_clean'], m['pm_ablated'])
    if ablated < clean / 2:
        right = 'a'
    elif ablated < clean - 0.05:
        right = 'b'
    elif ablated <= clean + 0.05:
        right = 'c'
    else:
        right = 'd'
    measured = f'Medido: a correspondência de prefixo da cabeça de indução foi de {clean:.2f} para {ablated:.2f} sem a cabeça de token anterior.'
    expect_choice('previsao_q4', previsao_q4, right, options='abcd', explanations={o: measured for o in 'abcd'})

@test_case(points=1, hidden=True)
def test_q4_ablated(pm_sem_token_anterior):
    from induction_heads.exercises.ex02_arquitetura.checks import circuit_measurements
    from induction_heads.grading.checks import expect_close
    m = circuit_measurements()
    hint = None
    if pm_sem_token_anterior is not None and abs(float(pm_sem_token_anterior) - m['pm_clean']) < 1e-06:
        hint = 'Esse é o valor sem ablação: meça dentro do bloco `with ablate_heads(...)`.'
    expect_close('`pm_sem_token_anterior`', pm_sem_token_anterior, m['pm_ablated'], 0.01, hint=hint)

@test_case(points=1, hidden=True)
def test_q4_control(pm_controle):
    from induction_heads.exercises.ex02_arquitetura.checks import circuit_measurements
    from induction_heads.grading.checks import expect_close
    m = circuit_measurements()
    expect_close('`pm_controle`', pm_controle, m['pm_control'], 0.01, hint=f"O controle é a cabeça {m['control'][0]}.{m['control'][1]}, a da camada 0 com a menor pontuação de token anterior.")

