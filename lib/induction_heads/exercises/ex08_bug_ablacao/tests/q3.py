from otter.test_files import test_case

OK_FORMAT = False

name = "q3"
points = 3

@test_case(points=1, hidden=False)
def test_q3_public(ablate_head_):
    from induction_heads.exercises.ex08_bug_ablacao.checks import check_ablation
    check_ablation(ablate_head_, in_features=12, out_features=10, n_heads=3, head=1)

