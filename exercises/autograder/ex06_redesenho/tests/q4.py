from otter.test_files import test_case

OK_FORMAT = False

name = "q4"
points = 2

@test_case(points=0, hidden=False, 
    success_message="Formato válido. Se os valores estão certos, só a correção diz.")
def test_q4_format(n_smear_gpt2, frac_smear_toy2l):
    from induction_heads.grading.checks import fail, require_answer
    require_answer('n_smear_gpt2', n_smear_gpt2)
    if isinstance(n_smear_gpt2, bool) or not isinstance(n_smear_gpt2, int) or n_smear_gpt2 < 0:
        fail(f'`n_smear_gpt2` deveria ser um inteiro não negativo, mas é {n_smear_gpt2!r}.')
    require_answer('frac_smear_toy2l', frac_smear_toy2l)
    if isinstance(frac_smear_toy2l, bool) or not isinstance(frac_smear_toy2l, (int, float)) or (not 0 <= frac_smear_toy2l <= 1):
        fail(f'`frac_smear_toy2l` deveria ser uma fração entre 0 e 1, mas é {frac_smear_toy2l!r}.')

@test_case(points=1, hidden=True)
def test_q4_gpt2(n_smear_gpt2):
    from transformers import GPT2Config
    from induction_heads.grading.checks import expect_integer
    config = GPT2Config()
    n_layers, n_heads, d_head = (config.n_layer, config.n_head, config.n_embd // config.n_head)
    expect_integer('n_smear_gpt2', n_smear_gpt2, n_layers * n_heads, hints={n_layers: 'Esse é um parâmetro por camada; a chave borrada tem um alpha por cabeça, e cada camada tem 12 cabeças.', n_layers * n_heads * d_head: 'Isso seria um vetor de d_head números por cabeça; alpha é um único número por cabeça.', n_layers * n_heads * 2: 'Um só parâmetro por cabeça: 1 - sigmoid(alpha) não é um parâmetro novo.'})

@test_case(points=1, hidden=True)
def test_q4_toy2l(frac_smear_toy2l):
    from induction_heads import get_adapter
    from induction_heads.grading.checks import expect_close
    from induction_heads.grading.checks_extra import reference_model
    model, _ = reference_model('toy-2l')
    adapter = get_adapter(model)
    total = sum((p.numel() for p in model.parameters()))
    added = adapter.n_layers * adapter.n_heads
    expected = added / total
    expect_close('A fração de parâmetros novos no toy-2l', frac_smear_toy2l, expected, 0.01 * expected, hint=f'O toy-2l tem {total} parâmetros e {adapter.n_layers} x {adapter.n_heads} cabeças, cada uma com um alpha.')

