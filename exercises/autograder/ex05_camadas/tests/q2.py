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

@test_case(points=1, hidden=True)
def test_q2_layer(pred_layer_2l):
    from induction_heads import prefix_matching_scores, repeated_tokens
    from induction_heads.grading.checks import expect_integer
    from induction_heads.grading.checks_extra import reference_model
    model, tokenizer = reference_model('toy-2l')
    scores = prefix_matching_scores(model, repeated_tokens(tokenizer))
    best_layer = int(scores.flatten().argmax()) // scores.shape[1]
    expect_integer('pred_layer_2l', pred_layer_2l, best_layer, hints={1 - best_layer: f'A melhor cabeça do toy-2l está na camada {best_layer} (pontuação {float(scores.max()):.2f}). Uma cabeça de indução lê, na chave, o token anterior, que uma cabeça de uma camada mais baixa escreveu.'})

@test_case(points=1, hidden=True)
def test_q2_best_1l(pred_best_1l):
    from induction_heads import prefix_matching_scores, repeated_tokens
    from induction_heads.grading.checks import expect_close
    from induction_heads.grading.checks_extra import reference_model
    model, tokenizer = reference_model('toy-1l')
    best = float(prefix_matching_scores(model, repeated_tokens(tokenizer)).max())
    expect_close('A previsão `pred_best_1l`', pred_best_1l, best, 0.15, hint='Numa só camada, a chave de cada posição só conhece o próprio token e a posição: nenhuma cabeça sabe qual token veio antes dela.')

