from otter.test_files import test_case

OK_FORMAT = False

name = "q2"
points = 2

@test_case(points=0, hidden=False, 
    success_message="Formato válido (dois inteiros). Se os valores estão certos, só a correção diz.")
def test_q2_format(n_zeroed_seed, n_zeroed_correct):
    from induction_heads.grading.checks import fail, require_answer
    for name, value in (('n_zeroed_seed', n_zeroed_seed), ('n_zeroed_correct', n_zeroed_correct)):
        require_answer(name, value)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            fail(f'`{name}` deveria ser um inteiro não negativo, mas é {value!r}.')

@test_case(points=1, hidden=True)
def test_q2_seed(n_zeroed_seed):
    from induction_heads.grading.checks import expect_integer
    expect_integer('n_zeroed_seed', n_zeroed_seed, 12 * 768 * 768, hints={2 * 768 * 768: 'O índice 3 dá a fatia de linhas 2304:3072, que é vazia: só o índice 0 zera algo, e ele zera a matriz inteira, em cada uma das 12 camadas.', 768 * 768: 'Essa é uma camada só; o laço do código passa por todas as 12 camadas.', 2 * 768 * 768 * 12: 'O índice 3 dá a fatia de linhas 2304:3072, que é vazia: não zera nada.', 2 * 64 * 768: 'Esse é o número de uma ablação correta numa camada; o código do texto zera blocos de hidden_size = 768 linhas, em todas as camadas.'})

@test_case(points=1, hidden=True)
def test_q2_correct(n_zeroed_correct):
    from induction_heads.grading.checks import expect_integer
    expect_integer('n_zeroed_correct', n_zeroed_correct, 2 * 64 * 768, hints={2 * 64 * 768 * 12: 'Uma cabeça é um par (camada, cabeça): aqui só as cabeças 0 e 3 da camada 5, não as de todas as camadas.', 64 * 768: 'Essa é uma cabeça só; são duas (0 e 3).', 2 * 64 * 64: 'Cada coluna de W_O tem 768 entradas (uma por dimensão de saída), não 64.', 2 * 768 * 768: 'Zerar a cabeça não zera a matriz toda: só as 64 colunas de cada cabeça.'})

