from otter.test_files import test_case

OK_FORMAT = False

name = "q3"
points = 3

@test_case(points=0, hidden=False, 
    success_message="Formato válido. Os valores são conferidos na correção (testes ocultos).")
def test_q3_format(melhor_pm_1l, melhor_pm_2l, cabeca_inducao, cabeca_token_anterior):
    from induction_heads.grading.checks import fail, require_answer
    from induction_heads.grading.checks_extra import as_heads
    for name, value in (('melhor_pm_1l', melhor_pm_1l), ('melhor_pm_2l', melhor_pm_2l)):
        require_answer(name, value)
        if hasattr(value, 'item') and getattr(value, 'ndim', 1) == 0:
            value = value.item()
        if isinstance(value, bool) or not isinstance(value, (int, float)) or (not 0 <= value <= 1):
            fail(f'`{name}` deveria ser uma pontuação (um número entre 0 e 1), mas é {value!r}.')
    as_heads('[cabeca_inducao]', [cabeca_inducao])
    as_heads('[cabeca_token_anterior]', [cabeca_token_anterior])

@test_case(points=1, hidden=True)
def test_q3_best(melhor_pm_1l, melhor_pm_2l):
    from induction_heads.exercises.ex02_arquitetura.checks import circuit_measurements
    from induction_heads.grading.checks import expect_close
    m = circuit_measurements()
    expect_close('`melhor_pm_1l`', melhor_pm_1l, m['best_1l'], 0.01, hint='É o máximo de prefix_matching_scores(model_1l, sonda_1l) sobre todas as cabeças.')
    expect_close('`melhor_pm_2l`', melhor_pm_2l, m['best_2l'], 0.01, hint='É o máximo de prefix_matching_scores(model_2l, sonda) sobre todas as cabeças.')

@test_case(points=1, hidden=True)
def test_q3_induction_head(cabeca_inducao):
    from induction_heads.exercises.ex02_arquitetura.checks import circuit_measurements
    from induction_heads.grading.checks_extra import expect_heads
    m = circuit_measurements()
    expect_heads('[cabeca_inducao]', [cabeca_inducao], [m['induction']], hint='É a cabeça do toy-2l com a maior correspondência de prefixo.')

@test_case(points=1, hidden=True)
def test_q3_previous_head(cabeca_token_anterior):
    from induction_heads.exercises.ex02_arquitetura.checks import circuit_measurements
    from induction_heads.grading.checks_extra import as_heads, expect_heads
    m = circuit_measurements()
    got = as_heads('[cabeca_token_anterior]', [cabeca_token_anterior])[0]
    hint = None
    if got[0] != 0:
        hint = 'A cabeça de token anterior que a composição K usa fica na camada 0.'
    elif got == m['control']:
        hint = 'Essa é a cabeça da camada 0 com a MENOR pontuação de token anterior.'
    expect_heads('[cabeca_token_anterior]', [cabeca_token_anterior], [m['previous']], hint=hint)

