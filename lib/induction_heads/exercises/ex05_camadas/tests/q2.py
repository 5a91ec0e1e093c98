from otter.test_files import test_case

OK_FORMAT = False

name = "q2"
points = 2

@test_case(points=0, hidden=False, 
    success_message="Formato válido. A correção compara as previsões com a medida.")
def test_q2_format(pred_layer_2l, pred_best_1l):
    from induction_heads.grading.checks import fail, require_answer
    require_answer('pred_layer_2l', pred_layer_2l)
    if isinstance(pred_layer_2l, bool) or pred_layer_2l not in (0, 1):
        fail(f'`pred_layer_2l` deveria ser 0 ou 1 (o toy-2l tem as camadas 0 e 1), mas é {pred_layer_2l!r}.')
    require_answer('pred_best_1l', pred_best_1l)
    if isinstance(pred_best_1l, bool) or not isinstance(pred_best_1l, (int, float)) or (not 0 <= pred_best_1l <= 1):
        fail(f'`pred_best_1l` deveria ser um número entre 0 e 1, mas é {pred_best_1l!r}.')

