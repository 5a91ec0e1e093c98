from otter.test_files import test_case

OK_FORMAT = False

name = "q4"
points = 3

@test_case(points=1, hidden=False)
def test_q4_public(head_ablated):
    from induction_heads.exercises.ex08_bug_ablacao.checks import check_context_manager
    check_context_manager(head_ablated, in_features=12, out_features=10, n_heads=3, head=1)

@test_case(points=1, hidden=True)
def test_q4_error(head_ablated):
    from induction_heads.exercises.ex08_bug_ablacao.checks import check_context_manager_restores_on_error
    check_context_manager_restores_on_error(head_ablated, in_features=16, out_features=16, n_heads=4, head=3, seed=3)

@test_case(points=1, hidden=True)
def test_q4_nested(head_ablated):
    from induction_heads.exercises.ex08_bug_ablacao.checks import check_context_manager_nested
    check_context_manager_nested(head_ablated, in_features=12, out_features=10, n_heads=3, heads=(0, 2), seed=5)

