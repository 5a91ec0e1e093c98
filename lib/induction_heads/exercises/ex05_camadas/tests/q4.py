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

