from otter.test_files import test_case

OK_FORMAT = False

name = "q4"
points = 3

@test_case(points=1, hidden=False)
def test_q4_public(random_heads_like_manual):
    from induction_heads.exercises.ex04_identificacao.checks import check_random_control
    check_random_control(random_heads_like_manual, [(0, 1), (1, 0), (1, 2)], n_layers=2, n_heads=6)

@test_case(points=1, hidden=True)
def test_q4_gpt2_size(random_heads_like_manual):
    from induction_heads.exercises.ex04_identificacao.checks import check_random_control
    check_random_control(random_heads_like_manual, [(5, 1), (5, 5), (6, 9), (7, 2), (7, 10)], n_layers=12, n_heads=12)
    check_random_control(random_heads_like_manual, [(0, 3), (2, 0), (2, 1)], n_layers=3, n_heads=4)

@test_case(points=1, hidden=True)
def test_q4_edges(random_heads_like_manual):
    from induction_heads.exercises.ex04_identificacao.checks import check_random_control, check_random_control_too_few
    check_random_control(random_heads_like_manual, [(1, 0), (1, 3)], n_layers=2, n_heads=4, require_variety=False)
    check_random_control(random_heads_like_manual, [(0, 2), (3, 7)], n_layers=4, n_heads=8)
    check_random_control_too_few(random_heads_like_manual)

