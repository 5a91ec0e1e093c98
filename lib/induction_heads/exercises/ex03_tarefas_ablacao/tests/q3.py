from otter.test_files import test_case

OK_FORMAT = False

name = "q3"
points = 3

@test_case(points=0, hidden=False, 
    success_message="Formato válido. Os valores são conferidos na correção (testes ocultos).")
def test_q3_format(acc_recall_limpo, acc_recall_inducao, acc_recall_controle, acc_padrao_limpo, acc_padrao_inducao, acc_padrao_controle, icl_limpo, icl_inducao, icl_controle):
    from induction_heads.grading.checks import fail, require_answer
    values = {'acc_recall_limpo': acc_recall_limpo, 'acc_recall_inducao': acc_recall_inducao, 'acc_recall_controle': acc_recall_controle, 'acc_padrao_limpo': acc_padrao_limpo, 'acc_padrao_inducao': acc_padrao_inducao, 'acc_padrao_controle': acc_padrao_controle, 'icl_limpo': icl_limpo, 'icl_inducao': icl_inducao, 'icl_controle': icl_controle}
    for name, value in values.items():
        require_answer(name, value)
        if hasattr(value, 'item') and getattr(value, 'ndim', 1) == 0:
            value = value.item()
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            fail(f'`{name}` deveria ser um número, mas é {value!r}.')
        if name.startswith('acc') and (not 0 <= value <= 1):
            fail(f'`{name}` é uma acurácia: fica entre 0 e 1, não {value}.')

