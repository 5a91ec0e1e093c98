from otter.test_files import test_case

OK_FORMAT = False

name = "q5"
points = 2

@test_case(points=0, hidden=False, 
    success_message="Formato válido (duas frações). Se os valores estão certos, só a correção diz.")
def test_q5_format(copy_rate_ablated, right_rate_ablated):
    from induction_heads.grading.checks import fail, require_answer
    for name, value in (('copy_rate_ablated', copy_rate_ablated), ('right_rate_ablated', right_rate_ablated)):
        require_answer(name, value)
        if hasattr(value, 'item'):
            value = value.item()
        if isinstance(value, bool) or not isinstance(value, (int, float)) or (not 0 <= value <= 1):
            fail(f'`{name}` deveria ser uma fração entre 0 e 1, mas é {value!r}.')

@test_case(points=1, hidden=True)
def test_q5_copy(copy_rate_ablated):
    import torch
    from induction_heads import ablate_heads, prefix_matching_scores, repeated_tokens
    from induction_heads.grading.checks import expect_close
    from induction_heads.grading.checks_extra import reference_model
    from induction_heads.scores import prefix_matching_targets
    model, tokenizer = reference_model('toy-2l')
    n, m = (10, 4)
    segments = repeated_tokens(tokenizer, seq_len=n, n_repeats=1, batch=100, seed=0)
    prompts = torch.cat([segments, segments[:, 1:].flip(1)[:, :m]], dim=1)
    target, _ = prefix_matching_targets(prompts)
    copied = prompts.gather(1, torch.stack([t[-1].nonzero().max() for t in target])[:, None])[:, 0]
    scores = prefix_matching_scores(model, repeated_tokens(tokenizer))
    heads = [tuple(h) for h in (scores > 0.5).nonzero().tolist()]
    with torch.no_grad():
        full = model(input_ids=prompts, use_cache=False).logits[:, -1].argmax(-1)
        with ablate_heads(model, heads):
            ablated = model(input_ids=prompts, use_cache=False).logits[:, -1].argmax(-1)
    expected = float((ablated == copied).float().mean())
    unablated = float((full == copied).float().mean())
    hint = 'Calcule a previsão DENTRO do bloco `with ablate_heads(model, induction):` e compare com o token copiado de cada prompt.'
    if isinstance(copy_rate_ablated, float) and abs(copy_rate_ablated - unablated) <= 0.02 < abs(expected - unablated):
        hint = 'Esse é o valor do modelo inteiro: a previsão precisa ser calculada DENTRO do bloco `with ablate_heads(model, induction):`.'
    expect_close('copy_rate_ablated', copy_rate_ablated, expected, 0.02, hint=hint)

@test_case(points=1, hidden=True)
def test_q5_right(right_rate_ablated):
    import torch
    from induction_heads import ablate_heads, prefix_matching_scores, repeated_tokens
    from induction_heads.grading.checks import expect_close
    from induction_heads.grading.checks_extra import reference_model
    model, tokenizer = reference_model('toy-2l')
    n, m = (10, 4)
    segments = repeated_tokens(tokenizer, seq_len=n, n_repeats=1, batch=100, seed=0)
    prompts = torch.cat([segments, segments[:, 1:].flip(1)[:, :m]], dim=1)
    scores = prefix_matching_scores(model, repeated_tokens(tokenizer))
    heads = [tuple(h) for h in (scores > 0.5).nonzero().tolist()]
    with torch.no_grad(), ablate_heads(model, heads):
        predicted = model(input_ids=prompts, use_cache=False).logits[:, -1].argmax(-1)
    expected = float((predicted == segments[:, 1 + n - 1 - m]).float().mean())
    expect_close('right_rate_ablated', right_rate_ablated, expected, 0.02, hint='Compare a previsão com as cabeças de indução ablacionadas com a resposta certa de cada prompt, w_(n-1-m).')

