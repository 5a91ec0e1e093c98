from otter.test_files import test_case

OK_FORMAT = False

name = "q2"
points = 2

@test_case(points=0, hidden=False, 
    success_message="Formato válido (duas atenções entre 0 e 1). Se os valores estão certos, só a correção diz.")
def test_q2_format(attn_b_smeared, attn_b_plain):
    from induction_heads.grading.checks import fail, require_answer
    for name, value in (('attn_b_smeared', attn_b_smeared), ('attn_b_plain', attn_b_plain)):
        require_answer(name, value)
        if hasattr(value, 'item'):
            value = value.item()
        if isinstance(value, bool) or not isinstance(value, (int, float)) or (not 0 <= value <= 1):
            fail(f'`{name}` deveria ser uma atenção, um número entre 0 e 1, mas é {value!r}.')

@test_case(points=1, hidden=True)
def test_q2_smeared(attn_b_smeared):
    import math
    from induction_heads.grading.checks import expect_close
    beta, s = (4.0, 1 / (1 + math.exp(2.0)))

    def attention_to_b(scores):
        return math.exp(scores[2]) / sum((math.exp(x) for x in scores))
    expected = attention_to_b([0.0, beta * s, beta * (1 - s), 0.0, beta * s])
    mistakes = {'Com os pesos trocados (sigmoid(alpha) na chave anterior) dá esse valor: confira a sua smear_keys.': attention_to_b([0.0, beta * (1 - s), beta * s, 0.0, beta * (1 - s)]), 'Com a posição 0 misturada com a última (torch.roll) dá esse valor: a posição 0 deve ficar igual.': attention_to_b([beta * (1 - s), beta * s, beta * (1 - s), 0.0, beta * s]), 'Esse é o valor com a chave misturada com a posição seguinte: a chave borrada usa a anterior.': attention_to_b([beta * (1 - s), beta * s, 0.0, beta * (1 - s), beta])}
    value = attn_b_smeared.item() if hasattr(attn_b_smeared, 'item') else attn_b_smeared
    hint = 'A softmax é sobre as 5 posições (a posição 4 também vê a si mesma), e a consulta é beta * e_A, sem dividir por raiz de d.'
    if isinstance(value, float):
        hint = next((h for h, v in mistakes.items() if abs(value - v) < 0.005), hint)
    expect_close('A atenção da posição 4 para B com chaves borradas', attn_b_smeared, expected, 0.005, hint=hint)

@test_case(points=1, hidden=True)
def test_q2_plain(attn_b_plain):
    import math
    from induction_heads.grading.checks import expect_close
    beta = 4.0
    scores = [0.0, beta, 0.0, 0.0, beta]
    expected = math.exp(scores[2]) / sum((math.exp(x) for x in scores))
    expect_close('A atenção da posição 4 para B com as chaves originais', attn_b_plain, expected, 0.005, hint='Sem borrar, só as chaves das posições 1 e 4 (os dois A) casam com a consulta: pontuações [0, 4, 0, 0, 4] antes da softmax.')

