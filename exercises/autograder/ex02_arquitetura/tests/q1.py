from otter.test_files import test_case

OK_FORMAT = False

name = "q1"
points = 2

@test_case(points=0, hidden=False, 
    success_message="Formato válido. Se as alternativas estão certas, só a correção (com testes ocultos) diz.")
def test_q1_format(answer_q1a, answer_q1b):
    from induction_heads.grading.checks import expect_option
    expect_option('answer_q1a', answer_q1a, 'abcd')
    expect_option('answer_q1b', answer_q1b, 'abcd')

@test_case(points=1, hidden=True)
def test_q1_layers(answer_q1a):
    from induction_heads.grading.checks import expect_choice
    expect_choice('answer_q1a', answer_q1a, 'b', options='abcd', explanations={'a': 'Numa camada só, a chave da posição de B é feita só do token B e da sua posição: nada nela diz que o token anterior era A. A cabeça pode achar o A anterior (mesmo token), mas não a posição depois dele. O toy-1l deste exercício mostra isso.', 'c': 'Duas bastam: a cabeça de token anterior na camada 0 e a de indução na camada 1 (o toy-2l tem as duas).', 'd': 'Mais cabeças na mesma camada não ajudam: todas leem o mesmo fluxo residual, que ainda não tem a informação do token anterior.'})

@test_case(points=1, hidden=True)
def test_q1_why(answer_q1b):
    from induction_heads.grading.checks import expect_choice
    expect_choice('answer_q1b', answer_q1b, 'b', options='abcd', explanations={'a': 'Cabeças da mesma camada leem o mesmo fluxo residual e escrevem em paralelo: uma não vê o que a outra escreveu. A composição é entre camadas.', 'c': 'Os modelos da pergunta nem têm MLP; a cópia é feita pelo circuito OV da própria cabeça de indução.', 'd': 'A atenção olha para qualquer posição anterior, perto ou longe, já na primeira camada; o problema é saber para qual olhar.'})

