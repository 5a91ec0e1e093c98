from otter.test_files import test_case

OK_FORMAT = False

name = "q2"
points = 3

@test_case(points=1, hidden=False)
def test_q2_public(previous_token_score):
    from induction_heads.exercises.ex02_arquitetura.checks import check_previous_token, handmade_case
    check_previous_token(previous_token_score, [handmade_case()])

@test_case(points=1, hidden=True)
def test_q2_random(previous_token_score):
    from induction_heads.exercises.ex02_arquitetura.checks import check_previous_token, random_cases
    check_previous_token(previous_token_score, random_cases(seeds=(0, 1, 2)))

@test_case(points=1, hidden=True)
def test_q2_model(previous_token_score):
    from induction_heads import attention_patterns, repeated_tokens
    from induction_heads.exercises.ex02_arquitetura.checks import check_previous_token
    from induction_heads.grading.checks_extra import reference_model
    model, tok = reference_model('toy-2l')
    tokens = repeated_tokens(tok, seq_len=10, n_repeats=3, batch=3, seed=7)
    patterns = attention_patterns(model, tokens)
    check_previous_token(previous_token_score, [(f'camada {layer} do toy-2l em tokens aleatórios repetidos', patterns[layer]) for layer in range(patterns.shape[0])])

