from otter.test_files import test_case

OK_FORMAT = False

name = "q2"
points = 2

@test_case(points=0, hidden=False, 
    success_message="Formato válido. Os valores são conferidos na correção (testes ocultos).")
def test_q2_format(topo, pm_cabeca):
    from induction_heads.grading.checks import fail, require_answer
    from induction_heads.grading.checks_extra import as_heads
    keys = {'olsson', 'curta', 'texto'}
    for name, value in (('topo', topo), ('pm_cabeca', pm_cabeca)):
        require_answer(name, value)
        if not isinstance(value, dict) or set(value) != keys:
            fail(f'`{name}` deveria ser um dicionário com as chaves {sorted(keys)}, mas é {value!r}.')
    for key, heads in topo.items():
        as_heads(f'topo["{key}"]', heads)
    for key, x in pm_cabeca.items():
        if hasattr(x, 'item') and getattr(x, 'ndim', 1) == 0:
            x = x.item()
        if isinstance(x, bool) or not isinstance(x, (int, float)) or (not 0 <= x <= 1):
            fail(f'pm_cabeca["{key}"] deveria ser uma pontuação entre 0 e 1, mas é {x!r}.')

@test_case(points=1, hidden=True)
def test_q2_top(topo):
    from induction_heads.exercises.ex04_identificacao.checks import PROBES, probe_measurements
    from induction_heads.grading.checks import require_answer
    from induction_heads.grading.checks_extra import expect_heads
    require_answer('topo', topo)
    m = probe_measurements(2)
    for key in PROBES:
        expect_heads(f'topo["{key}"]', topo.get(key) if isinstance(topo, dict) else None, m['top'][key], hint=f'São as 2 de maior correspondência de prefixo com {PROBES[key]}.')

@test_case(points=1, hidden=True)
def test_q2_scores(pm_cabeca):
    from induction_heads.exercises.ex04_identificacao.checks import PROBES, probe_measurements
    from induction_heads.grading.checks import expect_close, require_answer
    require_answer('pm_cabeca', pm_cabeca)
    m = probe_measurements(2)
    head = f"{m['head'][0]}.{m['head'][1]}"
    for key in PROBES:
        expect_close(f'pm_cabeca["{key}"]', pm_cabeca.get(key) if isinstance(pm_cabeca, dict) else None, m['head_scores'][key], 0.01, hint=f'É a pontuação da cabeça {head} (a primeira na sonda de Olsson) com {PROBES[key]}.')

