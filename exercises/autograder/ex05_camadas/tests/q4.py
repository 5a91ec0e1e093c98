from otter.test_files import test_case

OK_FORMAT = False

name = "q4"
points = 2

@test_case(points=0, hidden=False, 
    success_message="Formato válido. Se os valores estão certos, só a correção diz.")
def test_q4_format(step_layer1_crosses, best_layer0_final):
    from induction_heads.grading.checks import fail, require_answer
    from induction_heads.training import load_record
    steps = load_record('toy-2l')['steps']
    require_answer('step_layer1_crosses', step_layer1_crosses)
    if isinstance(step_layer1_crosses, bool) or not isinstance(step_layer1_crosses, int) or (step_layer1_crosses != -1 and step_layer1_crosses not in steps):
        fail(f"`step_layer1_crosses` deveria ser um dos passos de `record['steps']` (de {steps[0]} a {steps[-1]}), ou -1; você deu {step_layer1_crosses!r}.")
    require_answer('best_layer0_final', best_layer0_final)
    if isinstance(best_layer0_final, bool) or not isinstance(best_layer0_final, (int, float)) or (not 0 <= best_layer0_final <= 1):
        fail(f'`best_layer0_final` deveria ser uma pontuação entre 0 e 1, mas é {best_layer0_final!r}.')

@test_case(points=1, hidden=True)
def test_q4_step(step_layer1_crosses):
    from induction_heads.grading.checks import expect_close
    from induction_heads.training import load_record
    record = load_record('toy-2l')
    steps = record['steps']
    best_l1 = [max(pm[1]) for pm in record['prefix_matching']]
    best_any = [max((max(row) for row in pm)) for pm in record['prefix_matching']]
    crossing = next((s for s, v in zip(steps, best_l1) if v >= 0.5), -1)
    every = steps[1] - steps[0]
    hint = "Para cada k, pegue a camada 1 de record['prefix_matching'][k], o máximo sobre as cabeças, e ache o primeiro k em que ele chega a 0.5; a resposta é record['steps'][k], não o índice k."
    if isinstance(step_layer1_crosses, int) and 0 <= step_layer1_crosses < len(steps) and (steps[step_layer1_crosses] == crossing) and (step_layer1_crosses != crossing):
        hint = f"Você deu o índice k = {step_layer1_crosses}; a resposta é o passo record['steps'][k]."
    expect_close('O passo em que a melhor cabeça da camada 1 chega a 0.5', step_layer1_crosses, crossing, every, hint=hint)

@test_case(points=1, hidden=True)
def test_q4_layer0(best_layer0_final):
    from induction_heads.grading.checks import expect_close
    from induction_heads.training import load_record
    last = load_record('toy-2l')['prefix_matching'][-1]
    expected = max(last[0])
    hint = None
    if isinstance(best_layer0_final, (int, float)) and (not isinstance(best_layer0_final, bool)):
        if abs(best_layer0_final - max(last[-1])) <= 0.01 and abs(expected - max(last[-1])) > 0.01:
            hint = 'Esse é o valor da última camada; pede-se a camada 0, `pm[0]`.'
        elif abs(best_layer0_final - sum(last[0]) / len(last[0])) <= 0.01:
            hint = 'Essa é a média das cabeças da camada 0; pede-se a melhor cabeça (o máximo).'
    expect_close('A melhor pontuação da camada 0 no último passo', best_layer0_final, expected, 0.01, hint=hint)

