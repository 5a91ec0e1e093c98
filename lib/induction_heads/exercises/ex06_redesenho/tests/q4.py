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

