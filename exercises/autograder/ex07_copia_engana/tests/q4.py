from otter.test_files import test_case

OK_FORMAT = False

name = "q4"
points = 2

@test_case(points=0, hidden=False, 
    success_message="Formato válido (duas frações). Se os valores estão certos, só a correção diz.")
def test_q4_format(copy_rate, right_rate):
    from induction_heads.grading.checks import fail, require_answer
    for name, value in (('copy_rate', copy_rate), ('right_rate', right_rate)):
        require_answer(name, value)
        if hasattr(value, 'item'):
            value = value.item()
        if isinstance(value, bool) or not isinstance(value, (int, float)) or (not 0 <= value <= 1):
            fail(f'`{name}` deveria ser uma fração entre 0 e 1, mas é {value!r}.')

@test_case(points=1, hidden=True)
def test_q4_copy(copy_rate):
    import torch
    from induction_heads import repeated_tokens
    from induction_heads.grading.checks import expect_close
    from induction_heads.grading.checks_extra import reference_model
    from induction_heads.scores import prefix_matching_targets
    model, tokenizer = reference_model('toy-2l')
    n, m = (10, 4)
    segments = repeated_tokens(tokenizer, seq_len=n, n_repeats=1, batch=100, seed=0)
    prompts = torch.cat([segments, segments[:, 1:].flip(1)[:, :m]], dim=1)
    target, _ = prefix_matching_targets(prompts)
    after = torch.stack([t[-1].nonzero().max() for t in target])
    copied = prompts.gather(1, after[:, None])[:, 0]
    right = segments[:, 1 + n - 1 - m]
    assert (copied != right).all()
    with torch.no_grad():
        predicted = model(input_ids=prompts, use_cache=False).logits[:, -1].argmax(-1)
    expected = float((predicted == copied).float().mean())
    wrong = float((predicted != right).float().mean())
    hint = None
    if isinstance(copy_rate, float) and abs(copy_rate - wrong) <= 0.02 < abs(expected - wrong):
        hint = 'Essa é a fração de erros; pede-se a fração em que a previsão é exatamente o token copiado.'
    expect_close('copy_rate', copy_rate, expected, 0.02, hint=hint or 'Compare a previsão de next_token com copied_token(prompt) em cada um dos 100 prompts.')

@test_case(points=1, hidden=True)
def test_q4_right(right_rate):
    import torch
    from induction_heads import repeated_tokens
    from induction_heads.grading.checks import expect_close
    from induction_heads.grading.checks_extra import reference_model
    model, tokenizer = reference_model('toy-2l')
    n, m = (10, 4)
    segments = repeated_tokens(tokenizer, seq_len=n, n_repeats=1, batch=100, seed=0)
    prompts = torch.cat([segments, segments[:, 1:].flip(1)[:, :m]], dim=1)
    with torch.no_grad():
        predicted = model(input_ids=prompts, use_cache=False).logits[:, -1].argmax(-1)
    expected = float((predicted == segments[:, 1 + n - 1 - m]).float().mean())
    expect_close('right_rate', right_rate, expected, 0.02, hint='A resposta certa de cada prompt é w_(n-1-m) = segments[i, 1 + n - 1 - m] (lembre do <bos> na posição 0).')

