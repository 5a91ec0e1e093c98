from otter.test_files import test_case

OK_FORMAT = False

name = "q4"
points = 3

@test_case(points=1, hidden=False)
def test_q4_public(head_ablated):
    from induction_heads.exercises.ex08_bug_ablacao.checks import check_context_manager
    check_context_manager(head_ablated, in_features=12, out_features=10, n_heads=3, head=1)

