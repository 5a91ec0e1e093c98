from otter.test_files import test_case

OK_FORMAT = False

name = "q2"
points = 3

@test_case(points=1, hidden=False)
def test_q2_public(ablate_head_with_hook):
    from induction_heads.exercises.ex03_tarefas_ablacao.checks import check_hook_ablation
    check_hook_ablation(ablate_head_with_hook, in_features=12, out_features=10, d_head=4, head=1)

