from otter.test_files import test_case

OK_FORMAT = False

name = "q3"
points = 3

@test_case(points=1, hidden=False)
def test_q3_toy2l(layer_profile):
    from induction_heads import prefix_matching_scores, repeated_tokens
    from induction_heads.exercises.ex05_camadas.checks import check_layer_profile
    from induction_heads.grading.checks_extra import reference_model
    model, tokenizer = reference_model('toy-2l')
    tokens = repeated_tokens(tokenizer)
    scores = prefix_matching_scores(model, tokens)
    rows = scores.tolist()
    check_layer_profile(layer_profile, model, tokens, label='toy-2l', scores=scores, expected_best=[max(r) for r in rows], expected_mean=[sum(r) / len(r) for r in rows])

