from otter.test_files import test_case

OK_FORMAT = False

name = "q5"
points = 3

@test_case(points=0, hidden=False, 
    success_message="Formato válido. Se as respostas estão certas, só a correção (com testes ocultos) diz.")
def test_q5_format(n_top1_1024, answer_q5a, answer_q5b):
    from induction_heads.grading.checks import expect_option, fail, require_answer
    require_answer('n_top1_1024', n_top1_1024)
    if isinstance(n_top1_1024, bool) or not isinstance(n_top1_1024, int):
        fail(f'`n_top1_1024` deveria ser um número inteiro, mas é {n_top1_1024!r}.')
    expect_option('answer_q5a', answer_q5a, 'abcd')
    expect_option('answer_q5b', answer_q5b, 'abcd')

@test_case(points=1, hidden=True)
def test_q5_count(n_top1_1024):
    import torch
    from induction_heads import top_heads
    from induction_heads.grading.checks import expect_integer
    expected = len(top_heads(torch.zeros(32, 32), fraction=0.01))
    expect_integer('n_top1_1024', n_top1_1024, expected, hints={11: '1% de 1024 é 10,24: arredondado para o mais próximo, não para cima.', 1: '1% de 1024 cabeças é 10,24, não 1.', 0: 'O mínimo é 1, e 1% de 1024 é 10,24.', 1024: 'Isso é o total de cabeças; o top 1% é 1% delas.'})

@test_case(points=1, hidden=True)
def test_q5_prefix_matching(answer_q5a):
    from induction_heads.grading.checks import expect_choice
    expect_choice('answer_q5a', answer_q5a, 'b', options='abcd', explanations={'a': 'Correspondência de prefixo é metade do mecanismo (para onde a cabeça olha). Falta a cópia (o que ela escreve) e, para falar em causa, uma intervenção como a ablação.', 'c': 'A camada faz parte do nome da cabeça (L.H): isso se sabe sempre.', 'd': 'Se a pontuação é alta, ela olha para posições anteriores (a posição depois da ocorrência anterior do token).'})

@test_case(points=1, hidden=True)
def test_q5_zero_ablation(answer_q5b):
    from induction_heads.grading.checks import expect_choice
    expect_choice('answer_q5b', answer_q5b, 'b', options='abcd', explanations={'a': 'Uma ablação bem feita é temporária (um hook, ou pesos restaurados ao fim); o problema é o valor que ela põe no lugar da saída.', 'c': 'Zerar a fatia de uma cabeça não mexe nas outras: cada cabeça tem a sua fatia de W_O.', 'd': 'A ablação por zeragem é determinística: põe sempre zero.'})

