"""The course's interactive widgets, each in two versions.

* **Live** (ipywidgets; needs a running kernel: Jupyter, Colab):
  :func:`attention_explorer`, :func:`head_score_explorer`, :func:`ablation_explorer`,
  :func:`phase_change_scrubber`. Each returns an ``ipywidgets.VBox`` whose figure is an
  ``ipywidgets.Image`` redrawn by Python callbacks when a control changes. The box also has
  two plain attributes: ``controls`` (dict name -> control widget) and ``outputs`` (dict
  name -> output widget), so code and tests can drive it.
* **Kernel-free** (``IPython.display.HTML``: self-contained HTML + inline JavaScript + the
  data as JSON; no external resources, no CDN, no network): :func:`attention_explorer_html`,
  :func:`head_scores_html`, :func:`ablation_explorer_html`, :func:`phase_change_html`. All
  numbers are computed in Python by the library when the function is called; the browser
  only looks them up, so the static book page responds to hover and click without a kernel.
  Every call gets fresh element ids, so many widgets can share a page.

How pages use them (the decision for the book): a page displays the kernel-free version
(it works in the static book, in Jupyter and in Colab alike) and offers the live version in
a separate cell for readers running the page. :func:`show` does both in one call: it always
displays the HTML version and, only in Colab or when the environment variable
``INDUCTION_HEADS_LIVE=1`` is set, also builds and displays the live one (so the book
build never pays for it)::

    show(attention_explorer_html(model, tok, [texto]),
         lambda: attention_explorer(model, tok, text=texto))

DOM hooks of the kernel-free widgets (stable; the browser tests rely on them)
-----------------------------------------------------------------------------
Common to all four:

* root: ``div.ih-widget`` with a unique ``id`` and ``data-widget`` =
  ``"attention"`` | ``"head-scores"`` | ``"ablation"`` | ``"phase-change"``;
  ``data-ready="1"`` is set once the script has drawn the first state;
* ``script.ih-data[type="application/json"]`` inside the root: the embedded data;
* ``.ih-readout``: a text line that changes on every hover / click / slide.

``data-widget="attention"``:
  ``select.ih-select[data-role="text"|"layer"|"head"]`` (the text selector is hidden when
  there is one text); ``span.ih-token[data-pos=i]`` one per token; hovering a token (or a
  row of ``canvas.ih-matrix``) makes it the query: every token's background shows the
  attention the query pays to it and its ``data-attn`` attribute holds that value; the query
  token has class ``ih-active``. Click pins a query (class ``ih-pinned``), click again
  unpins. Initially the last token is pinned.

``data-widget="head-scores"``:
  ``button.ih-tab[data-score=name]`` (current one has class ``ih-selected``); cells
  ``td.ih-cell[data-layer][data-head]`` (attribute ``data-value`` = the shown score);
  hovering a cell writes ``"L.H: 0.87 · name"`` to the readout.

``data-widget="ablation"``:
  ``button.ih-head[data-head="L.H"]`` one per precomputed head, ``button.ih-group[data-group=
  name]`` one per head group; clicking one selects it (class ``ih-selected``) and redraws
  ``svg.ih-chart`` with ``path.ih-line-clean`` and ``path.ih-line-ablated``; the readout
  gives the mean loss before and after. Hovering the chart shows the value at a position.

``data-widget="phase-change"``:
  ``input.ih-slider[type=range]`` over the logged steps (index), ``button.ih-play``,
  ``button.ih-tab[data-score=...]``; the heatmap cells ``td.ih-cell[data-layer][data-head]``
  and the ``.ih-marker`` circles on ``svg.ih-chart`` follow the slider; the readout starts
  with ``"Passo <step>"``.
"""

from __future__ import annotations

import html as _html
import io
import itertools
import json
import os
import sys
import uuid
from collections.abc import Callable, Mapping, Sequence

import numpy as np

from .plots import (
    LOSS_POSITION_LABEL,
    _record_arrays,
    plot_attention_pattern,
    plot_head_scores,
    plot_per_token_loss,
    plot_training_snapshot,
)
from .scores import head_name
from .training.record import phase_change_step

__all__ = [
    "attention_explorer",
    "head_score_explorer",
    "ablation_explorer",
    "phase_change_scrubber",
    "attention_explorer_html",
    "head_scores_html",
    "ablation_explorer_html",
    "phase_change_html",
    "show",
    "live_widgets_wanted",
    "SCORE_NAMES",
]

#: Display names of the head scores (the course's words), keyed by the library function.
SCORE_NAMES = {
    "prefix_matching": "Correspondência de prefixo",
    "previous_token": "Token anterior",
    "copying_eigen": "Cópia (autovalores OV)",
    "copying_logit": "Cópia (logits)",
}

_counter = itertools.count()


# ======================================================================================
# Shared helpers
# ======================================================================================


def _new_id(kind: str) -> str:
    return f"ih-{kind}-{uuid.uuid4().hex[:10]}-{next(_counter)}"


def _json_for_script(data) -> str:
    """JSON that is safe inside ``<script type="application/json">`` (no ``</script>``)."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")


def _rounded(x, decimals: int):
    """Nested lists of floats rounded to ``decimals`` (``-0.0`` becomes ``0.0``)."""
    arr = np.asarray(x.detach().cpu().float().numpy() if hasattr(x, "detach") else x, dtype=float)
    if not np.all(np.isfinite(arr)):
        raise ValueError("the data holds NaN or infinite values; the widget cannot show them")
    return (np.round(arr, decimals) + 0.0).tolist()


def _stops(cmap: str, n: int = 11) -> list[list[int]]:
    """``n`` evenly spaced RGB colours of a matplotlib colour map (the JS interpolates)."""
    from matplotlib import colormaps

    cm = colormaps[cmap]
    return [[int(round(255 * c)) for c in cm(i / (n - 1))[:3]] for i in range(n)]


def _check_decimals(decimals) -> int:
    if isinstance(decimals, bool) or not isinstance(decimals, int) or not 1 <= decimals <= 8:
        raise ValueError(f"decimals must be an int between 1 and 8, got {decimals!r}")
    return decimals


_CSS = """
<style>
.ih-widget{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;font-size:14px;
 line-height:1.4;color:#1a1a1a;background:#fff;border:1px solid #d0d7de;border-radius:8px;padding:12px 14px;
 margin:8px 0;max-width:100%;box-sizing:border-box;overflow-x:auto}
.ih-widget *{box-sizing:border-box}
.ih-widget .ih-title{font-weight:600;font-size:15px;margin:0 0 8px 0}
.ih-widget .ih-help{color:#555;font-size:12.5px;margin:4px 0 8px 0}
.ih-widget .ih-controls{display:flex;flex-wrap:wrap;gap:8px 16px;align-items:center;margin-bottom:8px}
.ih-widget label{font-size:13px;color:#333;display:inline-flex;align-items:center;gap:4px}
.ih-widget select{font:inherit;font-size:13px;padding:2px 4px;margin-left:4px;border:1px solid #b6bec7;border-radius:4px;
 background:#fff;color:#1a1a1a}
.ih-widget button{font:inherit;font-size:13px;padding:3px 9px;margin:2px;border:1px solid #b6bec7;border-radius:4px;
 background:#f6f8fa;color:#1a1a1a;cursor:pointer}
.ih-widget button:hover{border-color:#0072B2}
.ih-widget button.ih-selected{background:#0072B2;color:#fff;border-color:#0072B2}
.ih-widget .ih-readout{margin-top:8px;padding:6px 8px;background:#f6f8fa;border-radius:4px;min-height:1.6em;
 font-size:13.5px;font-variant-numeric:tabular-nums}
.ih-widget .ih-row{display:flex;flex-wrap:wrap;gap:16px;align-items:flex-start}
.ih-widget .ih-tokens{flex:1 1 320px;min-width:240px;line-height:2.1}
.ih-widget .ih-token{display:inline-block;white-space:pre;padding:0 3px;margin:1px 1px;border-radius:3px;
 border:1px solid #e1e4e8;cursor:pointer;font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:13px;
 line-height:1.6}
.ih-widget .ih-token.ih-future{opacity:.35}
.ih-widget .ih-token.ih-active{outline:2px solid #D55E00;outline-offset:1px}
.ih-widget .ih-token.ih-pinned{border-color:#D55E00}
.ih-widget canvas.ih-matrix{border:1px solid #d0d7de;cursor:crosshair}
.ih-widget table.ih-grid{border-collapse:separate;border-spacing:2px;margin:0;font-variant-numeric:tabular-nums}
.ih-widget table.ih-grid th{font-weight:500;font-size:12px;color:#444;padding:0 4px;text-align:center;border:none;background:none}
.ih-widget table.ih-grid td.ih-cell{width:46px;height:28px;text-align:center;font-size:12px;border-radius:3px;padding:0;
 border:1px solid transparent;cursor:default}
.ih-widget table.ih-grid.ih-dense td.ih-cell{width:16px;height:16px;font-size:0}
.ih-widget table.ih-grid td.ih-cell:hover{border-color:#D55E00}
.ih-widget .ih-cbar{display:flex;align-items:stretch;gap:4px;font-size:11.5px;color:#333;min-height:130px;margin-top:18px}
.ih-widget .ih-cbar-grad{width:14px;border:1px solid #aaa;border-radius:2px}
.ih-widget .ih-cbar-labels{display:flex;flex-direction:column;justify-content:space-between}
.ih-widget .ih-cbar-title{writing-mode:vertical-rl;transform:rotate(180deg);text-align:center;color:#444}
.ih-widget svg.ih-chart{background:#fff;max-width:100%;height:auto}
.ih-widget svg.ih-chart text{font-family:inherit;fill:#333}
.ih-widget .ih-legend{display:flex;gap:14px;font-size:12.5px;margin:2px 0 0 4px}
.ih-widget .ih-swatch{display:inline-block;width:18px;height:3px;vertical-align:middle;margin-right:5px}
.ih-widget .ih-small{font-size:12px;color:#555}
.ih-widget .ih-scale-bar{display:inline-block;width:120px;height:10px;border:1px solid #aaa;vertical-align:middle;margin:0 4px}
.ih-widget input.ih-slider{width:min(420px,90%);vertical-align:middle}
.ih-widget .ih-heads td{padding:0}
.ih-widget button.ih-head{min-width:44px;padding:2px 4px}
</style>
"""

# Small JavaScript toolbox shared by the widgets (included in each widget's own scope).
_JS_COMMON = r"""
function ihColor(stops, t){
  if(!(t>=0)) t=0; if(t>1) t=1;
  var x=t*(stops.length-1), i=Math.min(Math.floor(x), stops.length-2), f=x-i, a=stops[i], b=stops[i+1];
  return 'rgb('+Math.round(a[0]+(b[0]-a[0])*f)+','+Math.round(a[1]+(b[1]-a[1])*f)+','+Math.round(a[2]+(b[2]-a[2])*f)+')';
}
function ihInk(stops, t){
  if(!(t>=0)) t=0; if(t>1) t=1;
  var x=t*(stops.length-1), i=Math.min(Math.floor(x), stops.length-2), f=x-i, a=stops[i], b=stops[i+1];
  var r=a[0]+(b[0]-a[0])*f, g=a[1]+(b[1]-a[1])*f, bl=a[2]+(b[2]-a[2])*f;
  return (0.2126*r+0.7152*g+0.0722*bl)/255 > 0.5 ? '#111' : '#fff';
}
function ihGradient(stops){
  var parts=[]; for(var i=stops.length-1;i>=0;i--){ parts.push('rgb('+stops[i].join(',')+')'); }
  return 'linear-gradient(to bottom,'+parts.join(',')+')';
}
function ihFmt(x, d){ if(d===undefined) d=2; var s=Number(x).toFixed(d); return s==='-'+(0).toFixed(d)?(0).toFixed(d):s; }
function ihEsc(s){ return String(s).replace(/&/g,'&amp;').replace(/</g,'&lt;').replace(/>/g,'&gt;').replace(/"/g,'&quot;'); }
function ihShowTok(s){ s=String(s).replace(/\n/g,'\u21b5'); return s.length? s : '\u2205'; }
function ihTicks(lo, hi, n){
  if(!(hi>lo)) return [lo];
  var raw=(hi-lo)/Math.max(1,n), mag=Math.pow(10, Math.floor(Math.log10(raw))), r=raw/mag;
  var step=(r<1.5?1:r<3?2:r<7?5:10)*mag, out=[];
  for(var v=Math.ceil(lo/step-1e-9)*step; v<=hi+step*1e-6; v+=step){ out.push(Math.abs(v)<step*1e-9?0:v); }
  return out;
}
function ihTickLabel(v){ var a=Math.abs(v); return a>=1000? String(Math.round(v)) : a>=10? String(Math.round(v*10)/10) : String(Math.round(v*100)/100); }
/* A line chart as an SVG string. o: {width,height,xmin,xmax,ymin,ymax,series:[{xs,ys,color,cls,dash}],
   spans:[[x0,x1,label]], vlines:[{x,color,dash,label}], markers:[{x,y,color}], xlabel, ylabel} */
function ihLineChart(o){
  var W=o.width, H=o.height, L=54, R=24, T=16, B=40, pw=W-L-R, ph=H-T-B;
  var sx=function(x){ return L+(o.xmax>o.xmin? (x-o.xmin)/(o.xmax-o.xmin):0.5)*pw; };
  var sy=function(y){ return T+(o.ymax>o.ymin? 1-(y-o.ymin)/(o.ymax-o.ymin):0.5)*ph; };
  var s=['<svg class="ih-chart" width="'+W+'" height="'+H+'" viewBox="0 0 '+W+' '+H+'" role="img">'];
  (o.spans||[]).forEach(function(sp,k){
    var x0=Math.max(L,sx(sp[0])), x1=Math.min(L+pw,sx(sp[1]));
    if(k%2===0) s.push('<rect x="'+x0+'" y="'+T+'" width="'+Math.max(0,x1-x0)+'" height="'+ph+'" fill="#999" fill-opacity="0.13"/>');
    if(sp[2]) s.push('<text x="'+((x0+x1)/2)+'" y="'+(T+12)+'" font-size="11" text-anchor="middle" fill="#555">'+ihEsc(sp[2])+'</text>');
  });
  ihTicks(o.ymin,o.ymax,5).forEach(function(v){ var y=sy(v);
    s.push('<line x1="'+L+'" x2="'+(L+pw)+'" y1="'+y+'" y2="'+y+'" stroke="#e5e5e5"/>');
    s.push('<text x="'+(L-6)+'" y="'+(y+4)+'" font-size="11" text-anchor="end">'+ihTickLabel(v)+'</text>'); });
  ihTicks(o.xmin,o.xmax,7).forEach(function(v){ var x=sx(v);
    s.push('<line x1="'+x+'" x2="'+x+'" y1="'+(T+ph)+'" y2="'+(T+ph+4)+'" stroke="#555"/>');
    s.push('<text x="'+x+'" y="'+(T+ph+16)+'" font-size="11" text-anchor="middle">'+ihTickLabel(v)+'</text>'); });
  s.push('<rect x="'+L+'" y="'+T+'" width="'+pw+'" height="'+ph+'" fill="none" stroke="#888"/>');
  (o.vlines||[]).forEach(function(v){ var x=sx(v.x);
    s.push('<line class="'+(v.cls||'')+'" x1="'+x+'" x2="'+x+'" y1="'+T+'" y2="'+(T+ph)+'" stroke="'+(v.color||'#000')+'"'+(v.dash?' stroke-dasharray="5 4"':'')+' stroke-width="1.3"/>');
    if(v.label) s.push('<text x="'+(x+4)+'" y="'+(T+24)+'" font-size="11" fill="'+(v.color||'#000')+'">'+ihEsc(v.label)+'</text>'); });
  (o.series||[]).forEach(function(se){
    var d=''; for(var i=0;i<se.ys.length;i++){ d+=(i?'L':'M')+sx(se.xs[i]).toFixed(1)+' '+sy(se.ys[i]).toFixed(1); }
    s.push('<path class="'+(se.cls||'')+'" d="'+d+'" fill="none" stroke="'+se.color+'" stroke-width="1.8"'+(se.dash?' stroke-dasharray="5 3"':'')+'/>'); });
  (o.markers||[]).forEach(function(m){
    s.push('<circle class="ih-marker" cx="'+sx(m.x)+'" cy="'+sy(m.y)+'" r="5" fill="'+m.color+'" stroke="#000" stroke-width="1"/>'); });
  s.push('<line class="ih-guide" x1="0" x2="0" y1="'+T+'" y2="'+(T+ph)+'" stroke="#000" stroke-opacity="0.5" visibility="hidden"/>');
  s.push('<text x="'+(L+pw/2)+'" y="'+(H-6)+'" font-size="12" text-anchor="middle">'+ihEsc(o.xlabel||'')+'</text>');
  s.push('<text transform="translate(14,'+(T+ph/2)+') rotate(-90)" font-size="12" text-anchor="middle">'+ihEsc(o.ylabel||'')+'</text>');
  s.push('</svg>');
  return {svg:s.join(''), sx:sx, sy:sy, left:L, width:pw, invx:function(px){ return o.xmin+(px-L)/pw*(o.xmax-o.xmin); }};
}
/* Heatmap table of a [n_layers][n_heads] array into <table class="ih-grid">. */
function ihFillGrid(table, values, stops, vmin, vmax, digits){
  var nl=values.length, nh=values[0].length, dense=nh>16;
  if(dense) table.classList.add('ih-dense'); else table.classList.remove('ih-dense');
  if(!table.ihBuilt){
    var h='<tr><th></th>'; for(var j=0;j<nh;j++) h+='<th>'+(dense&&j%4?'':j)+'</th>'; h+='</tr>';
    for(var l=0;l<nl;l++){ h+='<tr><th>'+l+'</th>'; for(var k=0;k<nh;k++) h+='<td class="ih-cell" data-layer="'+l+'" data-head="'+k+'"></td>'; h+='</tr>'; }
    table.innerHTML='<tbody>'+h+'</tbody>'; table.ihBuilt=true;
  }
  var cells=table.querySelectorAll('td.ih-cell');
  for(var c=0;c<cells.length;c++){
    var td=cells[c], v=values[+td.getAttribute('data-layer')][+td.getAttribute('data-head')];
    var t=vmax>vmin?(v-vmin)/(vmax-vmin):0.5;
    td.style.background=ihColor(stops,t); td.style.color=ihInk(stops,t);
    td.setAttribute('data-value', String(v)); td.textContent=dense?'':ihFmt(v,digits);
  }
}
function ihColorbar(div, stops, vmin, vmax, label){
  div.innerHTML='<div class="ih-cbar-grad" style="background:'+ihGradient(stops)+'"></div>'+
    '<div class="ih-cbar-labels"><span>'+ihFmt(vmax,2)+'</span><span>'+ihFmt((vmin+vmax)/2,2)+'</span><span>'+ihFmt(vmin,2)+'</span></div>'+
    '<div class="ih-cbar-title">'+ihEsc(label)+'</div>';
}
"""


def _render(kind: str, data: dict, body: str, script: str, title: str | None):
    """Assemble one kernel-free widget: root div, CSS, body, JSON data, script."""
    from IPython.display import HTML

    uid = _new_id(kind)
    head = f'<div class="ih-title">{_html.escape(title)}</div>' if title else ""
    page = (
        f'<div class="ih-widget tex2jax_ignore mathjax_ignore" id="{uid}" data-widget="{kind}">'
        f"{_CSS}{head}{body}"
        f'<script type="application/json" class="ih-data">{_json_for_script(data)}</script>'
        "</div>"
        "<script>(function(){"
        f'var root=document.getElementById("{uid}"); if(!root) return;'
        'var data=JSON.parse(root.querySelector("script.ih-data").textContent);'
        f"{_JS_COMMON}{script}"
        'root.setAttribute("data-ready","1");'
        "})();</script>"
    )
    return HTML(page)


def _model_shape(model) -> tuple[int, int]:
    from .models import get_adapter

    adapter = get_adapter(model)
    return adapter.n_layers, adapter.n_heads


def _check_head_list(heads, n_layers: int, n_heads: int, name: str = "heads") -> list[tuple[int, int]]:
    out = []
    for item in heads:
        try:
            layer, head = (int(v) for v in item)
        except (TypeError, ValueError):
            raise TypeError(f"{name} must hold (layer, head) pairs, got {item!r}") from None
        if not (0 <= layer < n_layers and 0 <= head < n_heads):
            raise ValueError(f"{name}: head {layer}.{head} does not exist (the model has {n_layers} layers x {n_heads} heads)")
        if (layer, head) not in out:
            out.append((layer, head))
    return out


# ======================================================================================
# Kernel-free widgets
# ======================================================================================

_ATTENTION_BODY = """
<div class="ih-controls">
  <label class="ih-text-label">Texto <select class="ih-select" data-role="text"></select></label>
  <label>Camada <select class="ih-select" data-role="layer"></select></label>
  <label>Cabeça <select class="ih-select" data-role="head"></select></label>
</div>
<div class="ih-help">Passe o mouse sobre um token (ou sobre uma linha da matriz) para ver para onde ele
olha: a cor de cada token é a atenção que recebe. Clique para fixar.</div>
<div class="ih-row">
  <div class="ih-tokens"></div>
  <div><canvas class="ih-matrix"></canvas>
       <div class="ih-small ih-scale">Atenção: 0 <span class="ih-scale-bar"></span> 1</div><div class="ih-small">Matriz de atenção (linha: consulta; coluna: chave)</div></div>
</div>
<div class="ih-readout" aria-live="polite"></div>
"""

_ATTENTION_JS = r"""
var selText=root.querySelector('select[data-role="text"]'), selLayer=root.querySelector('select[data-role="layer"]'),
    selHead=root.querySelector('select[data-role="head"]'), tokDiv=root.querySelector('.ih-tokens'),
    canvas=root.querySelector('canvas.ih-matrix'), readout=root.querySelector('.ih-readout'), stops=data.stops;
root.querySelector('.ih-scale-bar').style.background=ihGradient(stops).replace('to bottom','to left');
data.texts.forEach(function(t,i){ var o=document.createElement('option'); o.value=i; o.textContent=t.label; selText.appendChild(o); });
if(data.texts.length<2) root.querySelector('.ih-text-label').style.display='none';
data.layers.forEach(function(l,i){ var o=document.createElement('option'); o.value=i; o.textContent=l; selLayer.appendChild(o); });
for(var h=0;h<data.n_heads;h++){ var o=document.createElement('option'); o.value=h; o.textContent=h; selHead.appendChild(o); }
selLayer.value=data.initial_layer_index; selHead.value=data.initial_head;
var state={text:0, pinned:null, hover:null};
function pattern(){ return data.texts[state.text].patterns[+selLayer.value][+selHead.value]; }
function tokens(){ return data.texts[state.text].tokens; }
function buildTokens(){
  tokDiv.innerHTML='';
  tokens().forEach(function(t,i){
    var s=document.createElement('span'); s.className='ih-token'; s.setAttribute('data-pos', i);
    s.textContent=ihShowTok(t); tokDiv.appendChild(s);
  });
  var T=tokens().length, cell=Math.max(2, Math.min(14, Math.floor(300/T))), side=cell*T, dpr=window.devicePixelRatio||1;
  canvas.width=side*dpr; canvas.height=side*dpr; canvas.style.width=side+'px'; canvas.style.height=side+'px'; canvas.ihCell=cell;
  state.pinned=T-1; state.hover=null;
}
function drawMatrix(q){
  var P=pattern(), T=P.length, cell=canvas.ihCell, dpr=window.devicePixelRatio||1, ctx=canvas.getContext('2d');
  ctx.setTransform(dpr,0,0,dpr,0,0); ctx.clearRect(0,0,T*cell,T*cell);
  for(var i=0;i<T;i++){ for(var j=0;j<T;j++){ ctx.fillStyle=ihColor(stops,P[i][j]); ctx.fillRect(j*cell,i*cell,cell,cell); } }
  if(q!==null){ ctx.strokeStyle='#D55E00'; ctx.lineWidth=2; ctx.strokeRect(1,q*cell+1,T*cell-2,Math.max(1,cell-2)); }
}
function render(){
  var q=state.hover!==null? state.hover : state.pinned, P=pattern(), toks=tokens(), spans=tokDiv.querySelectorAll('.ih-token');
  for(var j=0;j<spans.length;j++){
    var s=spans[j], a=(q!==null && j<=q)? P[q][j] : 0;
    s.classList.toggle('ih-active', j===q); s.classList.toggle('ih-pinned', j===state.pinned);
    s.classList.toggle('ih-future', q!==null && j>q);
    s.style.background= (q!==null && j<=q)? ihColor(stops,a) : '#fff';
    s.style.color= (q!==null && j<=q)? ihInk(stops,a) : '#1a1a1a';
    s.setAttribute('data-attn', ihFmt(a,3)); s.title='posição '+j+(q!==null?' \u00b7 atenção '+ihFmt(a,3):'');
  }
  drawMatrix(q);
  var head=data.layers[+selLayer.value]+'.'+selHead.value;
  if(q===null){ readout.textContent='Cabeça '+head+': passe o mouse sobre um token.'; return; }
  var order=[]; for(var k=0;k<=q;k++) order.push(k); order.sort(function(a,b){ return P[q][b]-P[q][a]; });
  var top=order.slice(0,3).map(function(k){ return '\u00ab'+ihShowTok(toks[k])+'\u00bb (pos. '+k+') '+ihFmt(P[q][k],2); });
  readout.textContent='Cabeça '+head+' \u00b7 consulta \u00ab'+ihShowTok(toks[q])+'\u00bb (posição '+q+')'+
    (state.hover===null?' [fixada]':'')+' atende a: '+top.join(' \u00b7 ');
}
tokDiv.addEventListener('mouseover', function(e){ var t=e.target.closest('.ih-token'); if(!t) return; state.hover=+t.getAttribute('data-pos'); render(); });
tokDiv.addEventListener('mouseleave', function(){ state.hover=null; render(); });
tokDiv.addEventListener('click', function(e){ var t=e.target.closest('.ih-token'); if(!t) return; var p=+t.getAttribute('data-pos');
  state.pinned=(state.pinned===p)? null : p; state.hover=null; render(); });
function rowAt(e){ var r=canvas.getBoundingClientRect(); var i=Math.floor((e.clientY-r.top)/canvas.ihCell); return Math.max(0,Math.min(tokens().length-1,i)); }
canvas.addEventListener('mousemove', function(e){ var i=rowAt(e); if(i!==state.hover){ state.hover=i; render(); } });
canvas.addEventListener('mouseleave', function(){ state.hover=null; render(); });
canvas.addEventListener('click', function(e){ var i=rowAt(e); state.pinned=(state.pinned===i)?null:i; state.hover=null; render(); });
selText.addEventListener('change', function(){ state.text=+selText.value; buildTokens(); render(); });
selLayer.addEventListener('change', render); selHead.addEventListener('change', render);
buildTokens(); render();
"""


def attention_explorer_html(
    model,
    tokenizer,
    texts,
    *,
    layers: Sequence[int] | None = None,
    layer: int | None = None,
    head: int = 0,
    decimals: int = 3,
    max_tokens: int = 96,
    title: str | None = "Explorador de atenção",
):
    """Kernel-free attention explorer: pick a text, a layer and a head; hover a token.

    ``texts`` is a string, a list of strings, or a dict ``label -> text``. For each text the
    patterns of every head are computed now with :func:`scores.text_attention` and embedded
    (rounded to ``decimals``) as ``texts[i].patterns[layer_index][head][query][key]`` with the
    token strings in ``texts[i].tokens``. ``layers`` restricts the layers (default: all);
    ``layer``/``head`` choose the initial selection (default: the last layer, head 0). Texts
    longer than ``max_tokens`` tokens raise ``ValueError`` (the page would get heavy).
    """
    from .scores import text_attention

    decimals = _check_decimals(decimals)
    if isinstance(texts, str):
        items = [(texts, texts)]
    elif isinstance(texts, Mapping):
        items = [(str(k), v) for k, v in texts.items()]
    elif isinstance(texts, Sequence):
        items = [(t, t) for t in texts]
    else:
        raise TypeError(f"texts must be a string, a list of strings or a dict label -> text, got {type(texts).__name__}")
    if not items:
        raise ValueError("texts is empty: give at least one text")
    for label, text in items:
        if not isinstance(text, str) or not text.strip():
            raise ValueError(f"every text must be a non-empty string, got {text!r}")
    n_layers, n_heads = _model_shape(model)
    chosen = list(range(n_layers)) if layers is None else [int(l) for l in layers]
    if not chosen or any(not 0 <= l < n_layers for l in chosen) or len(set(chosen)) != len(chosen):
        raise ValueError(f"layers must be distinct layer indices in 0..{n_layers - 1}, got {layers!r}")
    if layer is None:
        layer = chosen[-1]
    if layer not in chosen:
        raise ValueError(f"layer {layer} is not among the shown layers {chosen}")
    if not 0 <= int(head) < n_heads:
        raise ValueError(f"head must be in 0..{n_heads - 1}, got {head}")

    entries = []
    for label, text in items:
        tokens, patterns = text_attention(model, tokenizer, text, layers=chosen)
        if len(tokens) > max_tokens:
            raise ValueError(
                f"the text {label[:40]!r} has {len(tokens)} tokens, more than max_tokens={max_tokens}; "
                "use a shorter text or raise max_tokens"
            )
        label = label if len(label) <= 60 else label[:57] + "..."
        entries.append({"label": label, "tokens": [str(t) for t in tokens], "patterns": _rounded(patterns, decimals)})
    data = {
        "layers": chosen,
        "n_heads": n_heads,
        "initial_layer_index": chosen.index(layer),
        "initial_head": int(head),
        "decimals": decimals,
        "stops": _stops("Blues"),
        "texts": entries,
    }
    return _render("attention", data, _ATTENTION_BODY, _ATTENTION_JS, title)


_SCORES_BODY = """
<div class="ih-tabs"></div>
<div class="ih-help">Passe o mouse sobre uma célula para ler a pontuação da cabeça (camada.cabeça).</div>
<div class="ih-row">
  <div><div class="ih-small">Camada \u2193 / Cabeça \u2192</div><table class="ih-grid"></table></div>
  <div class="ih-cbar"></div>
</div>
<div class="ih-readout" aria-live="polite"></div>
<div class="ih-top ih-small"></div>
"""

_SCORES_JS = r"""
var tabs=root.querySelector('.ih-tabs'), table=root.querySelector('table.ih-grid'), cbar=root.querySelector('.ih-cbar'),
    readout=root.querySelector('.ih-readout'), topDiv=root.querySelector('.ih-top'), current=data.initial;
data.names.forEach(function(n){ var b=document.createElement('button'); b.className='ih-tab'; b.setAttribute('data-score', n);
  b.textContent=n; tabs.appendChild(b); });
function show(name){
  current=name; var sc=data.scores[name];
  tabs.querySelectorAll('button.ih-tab').forEach(function(b){ b.classList.toggle('ih-selected', b.getAttribute('data-score')===name); });
  ihFillGrid(table, sc.values, sc.stops, sc.vmin, sc.vmax, 2);
  ihColorbar(cbar, sc.stops, sc.vmin, sc.vmax, name);
  var flat=[]; sc.values.forEach(function(row,l){ row.forEach(function(v,h){ flat.push([v,l+'.'+h]); }); });
  flat.sort(function(a,b){ return b[0]-a[0]; });
  topDiv.textContent='Maiores: '+flat.slice(0,5).map(function(p){ return p[1]+' ('+ihFmt(p[0],2)+')'; }).join(', ');
  readout.textContent=name+': passe o mouse sobre uma cabeça.';
}
tabs.addEventListener('click', function(e){ var b=e.target.closest('button.ih-tab'); if(b) show(b.getAttribute('data-score')); });
table.addEventListener('mouseover', function(e){ var td=e.target.closest('td.ih-cell'); if(!td) return;
  var l=+td.getAttribute('data-layer'), h=+td.getAttribute('data-head');
  readout.textContent=l+'.'+h+': '+ihFmt(data.scores[current].values[l][h],2)+' \u00b7 '+current; });
show(current);
"""


def head_scores_html(
    scores: Mapping,
    *,
    initial: str | None = None,
    decimals: int = 3,
    title: str | None = "Pontuações das cabeças",
):
    """Kernel-free head-score heatmap: click a score name to switch, hover a cell to read
    ``"L.H: 0.87"``.

    ``scores`` is a dict ``name -> [n_layers, n_heads]`` (tensor or array), e.g.
    ``{"Correspondência de prefixo": prefix_matching_scores(model, tokens), "Token anterior":
    previous_token_scores(model, tokens), "Cópia (autovalores OV)": copying_scores(model)}``;
    all must have the same shape. Values are embedded rounded to ``decimals`` as
    ``scores[name].values``. Scores with both signs get a diverging colour scale centred on 0.
    """
    decimals = _check_decimals(decimals)
    if not isinstance(scores, Mapping):
        raise TypeError(f"scores must be a dict name -> [n_layers, n_heads] scores, got {type(scores).__name__}")
    if not scores:
        raise ValueError("scores is empty: give at least one score")
    shape = None
    out = {}
    for name, values in scores.items():
        arr = np.asarray(_rounded(values, decimals), dtype=float)
        if arr.ndim != 2 or arr.size == 0:
            raise ValueError(f"scores[{name!r}] must be [n_layers, n_heads], got shape {arr.shape}")
        if shape is not None and arr.shape != shape:
            raise ValueError(f"scores[{name!r}] has shape {arr.shape}, the others {shape}")
        shape = arr.shape
        lo, hi = float(arr.min()), float(arr.max())
        if lo < 0 < hi:
            m = max(-lo, hi)
            vmin, vmax, cmap = -m, m, "RdBu_r"
        else:
            vmin, vmax, cmap = (min(0.0, lo), max(1.0, hi), "viridis") if 0 <= lo and hi <= 1 else (lo, hi, "viridis")
        out[str(name)] = {"values": arr.tolist(), "vmin": vmin, "vmax": vmax, "stops": _stops(cmap)}
    names = list(out)
    if initial is None:
        initial = names[0]
    if initial not in out:
        raise ValueError(f"initial={initial!r} is not one of the score names {names}")
    data = {"names": names, "initial": initial, "scores": out, "n_layers": shape[0], "n_heads": shape[1]}
    return _render("head-scores", data, _SCORES_BODY, _SCORES_JS, title)


_ABLATION_BODY = """
<div class="ih-help">Clique numa cabeça (camada.cabeça) ou num grupo de cabeças para ver a perda por posição
com essa ablação, comparada com o modelo intacto. A cor do botão é o aumento da perda média.</div>
<div class="ih-row">
  <div><div class="ih-small">Cabeças</div><table class="ih-heads"></table>
       <div class="ih-small" style="margin-top:6px">Grupos</div><div class="ih-groups"></div></div>
  <div><div class="ih-plot"></div>
       <div class="ih-legend"><span><span class="ih-swatch" style="border-top:3px dashed #0072B2;height:0"></span>Sem ablação</span>
       <span><span class="ih-swatch" style="background:#D55E00"></span><span class="ih-abl-label">Com ablação</span></span></div></div>
</div>
<div class="ih-readout" aria-live="polite"></div>
"""

_ABLATION_JS = r"""
var headsTable=root.querySelector('table.ih-heads'), groupsDiv=root.querySelector('.ih-groups'), plot=root.querySelector('.ih-plot'),
    readout=root.querySelector('.ih-readout'), ablLabel=root.querySelector('.ih-abl-label'), chart=null, current=null;
var items={};
data.heads.forEach(function(h){ items['head:'+h.label]={name:'cabeça '+h.label, loss:h.loss, mean:h.mean, repeat:h.mean_repeats}; });
data.groups.forEach(function(g){ items['group:'+g.name]={name:g.name+' ('+g.heads.join(', ')+')', loss:g.loss, mean:g.mean, repeat:g.mean_repeats}; });
var maxInc=1e-9; data.heads.forEach(function(h){ maxInc=Math.max(maxInc, h.mean-data.clean_mean); });
var byLayer={}; data.heads.forEach(function(h){ (byLayer[h.layer]=byLayer[h.layer]||[]).push(h); });
var rows=''; Object.keys(byLayer).sort(function(a,b){return a-b;}).forEach(function(l){
  rows+='<tr><td class="ih-small" style="padding-right:6px">Camada '+l+'</td><td>';
  byLayer[l].forEach(function(h){ var t=Math.max(0,(h.mean-data.clean_mean)/maxInc);
    rows+='<button class="ih-head" data-head="'+h.label+'" style="background:'+ihColor(data.stops,t)+';color:'+ihInk(data.stops,t)+'">'+h.label+'</button>'; });
  rows+='</td></tr>'; });
headsTable.innerHTML='<tbody>'+rows+'</tbody>';
data.groups.forEach(function(g){ var b=document.createElement('button'); b.className='ih-group'; b.setAttribute('data-group', g.name);
  b.textContent=g.name; b.title=g.heads.join(', '); groupsDiv.appendChild(b); });
var n=data.clean.length, xs=[]; for(var i=0;i<n;i++) xs.push(i);
var ymax=Math.max.apply(null,data.clean); Object.keys(items).forEach(function(k){ ymax=Math.max(ymax, Math.max.apply(null, items[k].loss)); });
var spans=[]; for(var b=0;b+1<data.boundaries.length;b++) spans.push([data.boundaries[b]-0.5, data.boundaries[b+1]-0.5, (b+1)+'\u00aa c\u00f3pia']);
function summary(it){
  var s='Ablação de '+it.name+': perda média '+ihFmt(data.clean_mean,2)+' \u2192 '+ihFmt(it.mean,2)+' nats ('+(it.mean>=data.clean_mean?'+':'')+ihFmt(it.mean-data.clean_mean,2)+')';
  if(it.repeat!==null) s+='; nas repetições '+ihFmt(data.clean_mean_repeats,2)+' \u2192 '+ihFmt(it.repeat,2);
  return s;
}
function select(key){
  current=key; var it=items[key];
  root.querySelectorAll('button.ih-head, button.ih-group').forEach(function(b){
    var k=b.classList.contains('ih-head')? 'head:'+b.getAttribute('data-head') : 'group:'+b.getAttribute('data-group');
    b.classList.toggle('ih-selected', k===key); });
  chart=ihLineChart({width:640, height:280, xmin:-0.5, xmax:n-0.5, ymin:0, ymax:ymax*1.1, spans:spans,
    series:[{xs:xs, ys:it.loss, color:'#D55E00', cls:'ih-line-ablated'}, {xs:xs, ys:data.clean, color:'#0072B2', cls:'ih-line-clean', dash:true}],
    xlabel:data.xlabel, ylabel:'Perda (nats)'});
  plot.innerHTML=chart.svg; ablLabel.textContent='Com ablação de '+it.name;
  readout.textContent=summary(it);
}
root.addEventListener('click', function(e){ var b=e.target.closest('button.ih-head, button.ih-group'); if(!b) return;
  select(b.classList.contains('ih-head')? 'head:'+b.getAttribute('data-head') : 'group:'+b.getAttribute('data-group')); });
plot.addEventListener('mousemove', function(e){
  var svg=plot.querySelector('svg'); if(!svg||!chart) return; var r=svg.getBoundingClientRect(), px=(e.clientX-r.left)*(640/r.width);
  var t=Math.round(chart.invx(px)); if(t<0||t>=n) return; var g=svg.querySelector('.ih-guide');
  g.setAttribute('x1', chart.sx(t)); g.setAttribute('x2', chart.sx(t)); g.setAttribute('visibility','visible');
  readout.textContent='Posição '+t+': sem ablação '+ihFmt(data.clean[t],2)+' \u00b7 com ablação de '+items[current].name+' '+ihFmt(items[current].loss[t],2)+' nats'; });
plot.addEventListener('mouseleave', function(){ var g=plot.querySelector('.ih-guide'); if(g) g.setAttribute('visibility','hidden'); if(current) readout.textContent=summary(items[current]); });
select(data.initial);
"""


def ablation_explorer_html(
    model,
    tokens,
    heads: Sequence[tuple[int, int]] | None = None,
    *,
    groups: Mapping[str, Sequence[tuple[int, int]]] | None = None,
    n_top: int = 2,
    method: str = "zero",
    boundaries: Sequence[int] | None = None,
    decimals: int = 4,
    progress: bool = True,
    title: str | None = "Explorador de ablação",
):
    """Kernel-free ablation explorer: click a head (or a group of heads) to see the loss per
    position with it ablated, against the intact model, as an inline SVG chart.

    Everything is computed now: the clean per-position loss
    ``per_token_loss(model, tokens).mean(0)`` (``[T-1]``, averaged over the batch), and the
    same under ``ablate_heads(model, [head], method)`` for each head in ``heads`` (default:
    every head) and under ``ablate_heads(model, group_heads, method)`` for each group. With
    ``groups=None`` the groups are the ``n_top`` heads with the highest prefix-matching score
    on ``tokens`` ("Principais cabeças de indução") and as many random heads in the same
    layers (``random_heads_like``, seed 0: "Cabeças aleatórias (controle)"); pass
    ``groups={}`` for none. ``method="mean"`` uses ``tokens`` as the reference batch.
    ``boundaries`` (loss indices, see :func:`plots.copy_boundaries`) shade the copies of a
    repeated sequence; the "repetitions" mean is then taken from ``boundaries[1]`` on.
    """
    from tqdm.auto import tqdm

    from .ablation import ablate_heads
    from .metrics import per_token_loss
    from .scores import prefix_matching_scores, random_heads_like, top_heads

    decimals = _check_decimals(decimals)
    if method not in ("zero", "mean"):
        raise ValueError(f"method must be 'zero' or 'mean', got {method!r}")
    if not hasattr(tokens, "dim") or tokens.dim() != 2:
        raise ValueError("tokens must be a [batch, T] tensor of token ids")
    n_layers, n_heads = _model_shape(model)
    all_heads = [(l, h) for l in range(n_layers) for h in range(n_heads)]
    heads = all_heads if heads is None else _check_head_list(heads, n_layers, n_heads)
    if groups is None:
        top = top_heads(prefix_matching_scores(model, tokens), k=min(int(n_top), n_layers * n_heads))
        groups = {"Principais cabeças de indução": top}
        try:
            groups["Cabeças aleatórias (controle)"] = random_heads_like(top, model, seed=0)
        except ValueError:  # not enough other heads in those layers for a control
            pass
    if not isinstance(groups, Mapping):
        raise TypeError("groups must be a dict name -> list of (layer, head)")
    groups = {str(k): _check_head_list(v, n_layers, n_heads, f"groups[{k!r}]") for k, v in groups.items()}
    for name, members in groups.items():
        if not members:
            raise ValueError(f"groups[{name!r}] is empty")
    if not heads and not groups:
        raise ValueError("nothing to show: give at least one head or one group")
    T1 = tokens.shape[1] - 1
    if boundaries is not None:
        boundaries = [int(b) for b in boundaries]
        if len(boundaries) < 2 or sorted(boundaries) != boundaries or boundaries[0] < 0 or boundaries[-1] > T1:
            raise ValueError(f"boundaries must be >= 2 increasing loss indices in 0..{T1}, got {boundaries}")
    reference = tokens if method == "mean" else None
    repeat_from = boundaries[1] if boundaries is not None else None

    def curve(run_heads):
        if run_heads is None:
            loss = per_token_loss(model, tokens)
        else:
            with ablate_heads(model, run_heads, method=method, reference=reference):
                loss = per_token_loss(model, tokens)
        values = loss.float().mean(0)
        return {
            "loss": _rounded(values, decimals),
            "mean": round(float(values.mean()), decimals),
            "mean_repeats": None if repeat_from is None else round(float(values[repeat_from:].mean()), decimals),
        }

    runs = len(heads) + len(groups) + 1
    bar = tqdm(total=runs, desc="ablação (explorador)", disable=not progress)
    try:
        clean = curve(None)
        bar.update()
        head_entries = []
        for layer, head in heads:
            head_entries.append({"label": head_name((layer, head)), "layer": layer, "head": head, **curve([(layer, head)])})
            bar.update()
        group_entries = []
        for name, members in groups.items():
            group_entries.append({"name": name, "heads": [head_name(h) for h in members], **curve(members)})
            bar.update()
    finally:
        bar.close()
    initial = f"group:{group_entries[0]['name']}" if group_entries else f"head:{head_entries[0]['label']}"
    data = {
        "method": method,
        "clean": clean["loss"],
        "clean_mean": clean["mean"],
        "clean_mean_repeats": clean["mean_repeats"],
        "boundaries": boundaries or [],
        "heads": head_entries,
        "groups": group_entries,
        "initial": initial,
        "stops": _stops("Oranges"),
        "xlabel": LOSS_POSITION_LABEL,
    }
    return _render("ablation", data, _ABLATION_BODY, _ABLATION_JS, title)


_PHASE_BODY = """
<div class="ih-controls">
  <button class="ih-play" type="button">\u25b6 Animar</button>
  <label>Passo <input class="ih-slider" type="range" min="0" max="0" step="1" value="0"></label>
  <span class="ih-step-label"></span>
</div>
<div class="ih-tabs"></div>
<div class="ih-row">
  <div><div class="ih-small">Camada \u2193 / Cabeça \u2192</div><table class="ih-grid"></table></div>
  <div class="ih-cbar"></div>
  <div><div class="ih-plot"></div>
       <div class="ih-legend"><span><span class="ih-swatch" style="background:#0072B2"></span>Perda</span>
       <span><span class="ih-swatch" style="background:#D55E00"></span>Perda em repetições</span>
       <span class="ih-legend-change"><span class="ih-swatch" style="border-top:3px dashed #009E73;height:0"></span>Mudança de fase</span></div></div>
</div>
<div class="ih-readout" aria-live="polite"></div>
"""

_PHASE_JS = r"""
var slider=root.querySelector('input.ih-slider'), play=root.querySelector('button.ih-play'), stepLabel=root.querySelector('.ih-step-label'),
    tabs=root.querySelector('.ih-tabs'), table=root.querySelector('table.ih-grid'), cbar=root.querySelector('.ih-cbar'),
    plot=root.querySelector('.ih-plot'), readout=root.querySelector('.ih-readout'), n=data.steps.length, current=data.score_names[0], timer=null;
slider.max=n-1; slider.value=data.initial_index;
if(data.change_step===null) root.querySelector('.ih-legend-change').style.display='none';
data.score_names.forEach(function(name){ var b=document.createElement('button'); b.className='ih-tab'; b.setAttribute('data-score', name);
  b.textContent=name; tabs.appendChild(b); });
if(data.score_names.length<2) tabs.style.display='none';
var ymax=Math.max(Math.max.apply(null,data.loss), Math.max.apply(null,data.loss_repeats));
function best(values){ var b=[-Infinity,'']; values.forEach(function(row,l){ row.forEach(function(v,h){ if(v>b[0]) b=[v,l+'.'+h]; }); }); return b; }
function update(){
  var i=+slider.value, step=data.steps[i], values=data.scores[current][i];
  tabs.querySelectorAll('button.ih-tab').forEach(function(b){ b.classList.toggle('ih-selected', b.getAttribute('data-score')===current); });
  ihFillGrid(table, values, data.stops, 0, 1, 2);
  var vl=[{x:step, color:'#000'}]; if(data.change_step!==null) vl.unshift({x:data.change_step, color:'#009E73', dash:true, label:'mudança de fase'});
  plot.innerHTML=ihLineChart({width:520, height:280, xmin:data.steps[0], xmax:data.steps[n-1], ymin:0, ymax:ymax*1.08,
    series:[{xs:data.steps, ys:data.loss, color:'#0072B2', cls:'ih-line-loss'}, {xs:data.steps, ys:data.loss_repeats, color:'#D55E00', cls:'ih-line-repeats'}],
    vlines:vl, markers:[{x:step, y:data.loss[i], color:'#0072B2'}, {x:step, y:data.loss_repeats[i], color:'#D55E00'}],
    xlabel:'Passo de treinamento', ylabel:'Perda (nats)'}).svg;
  stepLabel.textContent=step+' ('+(i+1)+'/'+n+')';
  var b=best(data.scores[data.score_names[0]][i]);
  readout.textContent='Passo '+step+': perda '+ihFmt(data.loss[i],2)+' \u00b7 perda em repetições '+ihFmt(data.loss_repeats[i],2)+
    ' \u00b7 pontuação de aprendizado em contexto '+ihFmt(data.icl_score[i],2)+' \u00b7 maior correspondência de prefixo: cabeça '+b[1]+' ('+ihFmt(b[0],2)+')';
}
ihColorbar(cbar, data.stops, 0, 1, 'Pontuação');
slider.addEventListener('input', update);
tabs.addEventListener('click', function(e){ var b=e.target.closest('button.ih-tab'); if(b){ current=b.getAttribute('data-score'); update(); } });
table.addEventListener('mouseover', function(e){ var td=e.target.closest('td.ih-cell'); if(!td) return;
  var l=+td.getAttribute('data-layer'), h=+td.getAttribute('data-head'), i=+slider.value;
  readout.textContent='Passo '+data.steps[i]+' \u00b7 '+l+'.'+h+': '+ihFmt(data.scores[current][i][l][h],2)+' \u00b7 '+current; });
function stop(){ if(timer){ clearInterval(timer); timer=null; } play.textContent='\u25b6 Animar'; }
play.addEventListener('click', function(){
  if(timer){ stop(); return; }
  if(+slider.value>=n-1) slider.value=0;
  play.textContent='\u275a\u275a Pausar'; update();
  timer=setInterval(function(){ if(+slider.value>=n-1){ stop(); return; } slider.value=+slider.value+1; update(); }, 350);
});
update();
"""


def phase_change_html(
    record,
    *,
    change_step: int | None = None,
    initial_step: int | None = None,
    decimals: int = 4,
    title: str | None = "Mudança de fase: role pelos passos de treinamento",
):
    """Kernel-free phase-change scrubber over a training record (``training.load_record``).

    A range slider runs over the logged steps; it updates a heatmap of every head's
    prefix-matching score at that step (tab "Token anterior" if the record has
    ``previous_token``) and markers on the loss curves ("Perda", "Perda em repetições"), where
    the phase change (``change_step``, default :func:`training.phase_change_step`; none if
    that finds none) is a dashed line. A play button animates the steps. ``initial_step`` defaults to the last step.
    """
    decimals = _check_decimals(decimals)
    arrays = _record_arrays(record)
    steps = [int(s) for s in arrays["steps"]]
    change = phase_change_step(record) if change_step is None else int(change_step)
    change = None if change is None else int(change)
    if initial_step is None:
        initial_step = steps[-1]
    if initial_step not in steps:
        raise ValueError(f"initial_step={initial_step} is not a logged step of the record")
    scores = {SCORE_NAMES["prefix_matching"]: _rounded(arrays["prefix_matching"], decimals)}
    if "previous_token" in arrays:
        scores[SCORE_NAMES["previous_token"]] = _rounded(arrays["previous_token"], decimals)
    data = {
        "steps": steps,
        "loss": _rounded(arrays["loss"], decimals),
        "loss_repeats": _rounded(arrays["loss_repeats"], decimals),
        "icl_score": _rounded(arrays["icl_score"], decimals),
        "score_names": list(scores),
        "scores": scores,
        "change_step": change,
        "initial_index": steps.index(int(initial_step)),
        "stops": _stops("viridis"),
    }
    return _render("phase-change", data, _PHASE_BODY, _PHASE_JS, title)


# ======================================================================================
# Live widgets (ipywidgets)
# ======================================================================================


def _png(fig) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=96)
    return buffer.getvalue()


def _box(children, controls: dict, outputs: dict):
    import ipywidgets as w

    box = w.VBox(children)
    box.controls = controls
    box.outputs = outputs
    return box


def _coloured_tokens_html(tokens, row, query: int) -> str:
    """HTML of the tokens coloured by one attention row (for the live attention explorer)."""
    from matplotlib import colormaps

    cm = colormaps["Blues"]
    parts = []
    for j, tok in enumerate(tokens):
        text = _html.escape(str(tok).replace("\n", "\u21b5") or "\u2205")
        if j <= query:
            a = float(row[j])
            r, g, b, _ = cm(a)
            ink = "#111" if 0.2126 * r + 0.7152 * g + 0.0722 * b > 0.5 else "#fff"
            style = f"background:rgb({int(255 * r)},{int(255 * g)},{int(255 * b)});color:{ink}"
            outline = ";outline:2px solid #D55E00" if j == query else ""
            title = f"posição {j} · atenção {a:.3f}"
        else:
            style, outline, title = "color:#aaa", "", f"posição {j}"
        parts.append(
            f'<span title="{title}" style="{style}{outline};white-space:pre;padding:0 3px;margin:1px;'
            f'border-radius:3px;font-family:monospace;display:inline-block">{text}</span>'
        )
    return '<div style="line-height:2">' + "".join(parts) + "</div>"


def attention_explorer(model, tokenizer, text: str, *, layer: int = 0, head: int = 0):
    """Live attention explorer: type a text, choose a layer, a head and a query position.

    Shows the head's pattern (:func:`plots.plot_attention_pattern`) and the tokens coloured by
    the attention the chosen query position pays to them. Patterns come from
    :func:`scores.text_attention`, recomputed only when the text changes.
    """
    import ipywidgets as w

    from .scores import text_attention

    n_layers, n_heads = _model_shape(model)
    if not 0 <= layer < n_layers or not 0 <= head < n_heads:
        raise ValueError(f"layer/head must be in 0..{n_layers - 1} / 0..{n_heads - 1}, got {layer}/{head}")
    state = {}

    def compute(new_text):
        tokens, patterns = text_attention(model, tokenizer, new_text)
        state["tokens"], state["patterns"] = tokens, patterns.float().cpu().numpy()

    compute(text)
    text_box = w.Textarea(value=text, description="Texto", continuous_update=False, layout=w.Layout(width="95%"))
    layer_dd = w.Dropdown(options=[(str(l), l) for l in range(n_layers)], value=layer, description="Camada")
    head_dd = w.Dropdown(options=[(str(h), h) for h in range(n_heads)], value=head, description="Cabeça")
    T = len(state["tokens"])
    query = w.IntSlider(value=T - 1, min=0, max=T - 1, description="Consulta", continuous_update=False)
    tokens_html = w.HTML()
    image = w.Image(format="png")
    status = w.HTML()

    def redraw(*_):
        tokens, patterns = state["tokens"], state["patterns"]
        l, h, q = layer_dd.value, head_dd.value, min(query.value, len(tokens) - 1)
        pattern = patterns[l, h]
        tokens_html.value = _coloured_tokens_html(tokens, pattern[q], q)
        fig = plot_attention_pattern(pattern, tokens, title=f"Padrão de atenção da cabeça {l}.{h}")
        image.value = _png(fig)
        top = np.argsort(-pattern[q, : q + 1])[:3]
        status.value = (
            f"Consulta «{_html.escape(tokens[q])}» (posição {q}) atende a: "
            + " · ".join(f"«{_html.escape(tokens[k])}» (pos. {k}) {pattern[q, k]:.2f}" for k in top)
        )

    def on_text(change):
        try:
            compute(change["new"])
        except ValueError as exc:
            status.value = f"<b>Erro:</b> {_html.escape(str(exc))}"
            return
        n = len(state["tokens"])
        query.max = n - 1
        query.value = n - 1
        redraw()

    text_box.observe(on_text, names="value")
    for control in (layer_dd, head_dd, query):
        control.observe(redraw, names="value")
    redraw()
    return _box(
        [text_box, w.HBox([layer_dd, head_dd, query]), tokens_html, status, image],
        {"text": text_box, "layer": layer_dd, "head": head_dd, "query": query},
        {"figure": image, "tokens": tokens_html, "readout": status},
    )


def head_score_explorer(model, tokens, *, tokenizer=None):
    """Live head-score heatmap: choose the score in a dropdown.

    Scores (computed on first use, then cached): prefix matching and previous token on
    ``tokens`` (:func:`scores.prefix_matching_scores`, :func:`scores.previous_token_scores`),
    copying from the weights (:func:`scores.copying_scores`, ``"eigen"`` and ``"logit"``;
    ``tokenizer`` restricts the logit version to ordinary tokens).
    """
    import ipywidgets as w

    from .scores import copying_scores, prefix_matching_scores, previous_token_scores

    compute = {
        SCORE_NAMES["prefix_matching"]: lambda: prefix_matching_scores(model, tokens),
        SCORE_NAMES["previous_token"]: lambda: previous_token_scores(model, tokens),
        SCORE_NAMES["copying_eigen"]: lambda: copying_scores(model, "eigen"),
        SCORE_NAMES["copying_logit"]: lambda: copying_scores(model, "logit", tokenizer=tokenizer),
    }
    cache: dict[str, np.ndarray] = {}
    dropdown = w.Dropdown(options=list(compute), value=SCORE_NAMES["prefix_matching"], description="Pontuação",
                          style={"description_width": "initial"})
    image = w.Image(format="png")
    readout = w.HTML()

    def redraw(*_):
        name = dropdown.value
        if name not in cache:
            cache[name] = np.asarray(compute[name]().detach().cpu().float().numpy())
        values = cache[name]
        image.value = _png(plot_head_scores(values, title=name, colorbar_label=name))
        order = np.argsort(-values.reshape(-1), kind="stable")[:5]
        n_heads = values.shape[1]
        readout.value = "Maiores: " + ", ".join(
            f"{head_name(divmod(int(i), n_heads))} ({values.reshape(-1)[i]:.2f})" for i in order
        )

    dropdown.observe(redraw, names="value")
    redraw()
    return _box([dropdown, readout, image], {"score": dropdown}, {"figure": image, "readout": readout})


def ablation_explorer(
    model,
    tokens,
    *,
    heads: Sequence[tuple[int, int]] = (),
    method: str = "zero",
    boundaries: Sequence[int] | None = None,
):
    """Live ablation explorer: choose any set of heads (and zero or mean ablation); see the
    per-position loss with them ablated against the intact model.

    The curves are ``per_token_loss(model, tokens).mean(0)`` without and inside
    ``ablate_heads(model, chosen, method)``; mean ablation uses ``tokens`` as reference.
    ``heads`` is the initial selection.
    """
    import ipywidgets as w

    from .ablation import ablate_heads
    from .metrics import per_token_loss

    if method not in ("zero", "mean"):
        raise ValueError(f"method must be 'zero' or 'mean', got {method!r}")
    n_layers, n_heads = _model_shape(model)
    initial = _check_head_list(heads, n_layers, n_heads)
    options = [(head_name((l, h)), (l, h)) for l in range(n_layers) for h in range(n_heads)]
    select = w.SelectMultiple(options=options, value=tuple(initial), description="Cabeças",
                              rows=min(10, len(options)))
    method_tb = w.ToggleButtons(options=[("Zerar", "zero"), ("Média", "mean")], value=method, description="Ablação")
    image = w.Image(format="png")
    readout = w.HTML()
    clean = per_token_loss(model, tokens).float().mean(0).numpy()

    def redraw(*_):
        chosen = list(select.value)
        curves = {"Sem ablação": clean}
        if chosen:
            reference = tokens if method_tb.value == "mean" else None
            with ablate_heads(model, chosen, method=method_tb.value, reference=reference):
                ablated = per_token_loss(model, tokens).float().mean(0).numpy()
            label = "Com ablação de " + ", ".join(head_name(h) for h in chosen)
            curves[label] = ablated
            readout.value = (
                f"{label}: perda média {clean.mean():.2f} → {ablated.mean():.2f} nats "
                f"({ablated.mean() - clean.mean():+.2f})"
            )
        else:
            readout.value = f"Nenhuma cabeça escolhida: perda média {clean.mean():.2f} nats."
        image.value = _png(plot_per_token_loss(curves, boundaries=boundaries))

    select.observe(redraw, names="value")
    method_tb.observe(redraw, names="value")
    redraw()
    return _box([w.HBox([select, method_tb]), readout, image], {"heads": select, "method": method_tb},
                {"figure": image, "readout": readout})


def phase_change_scrubber(record, *, change_step: int | None = None):
    """Live phase-change scrubber: a slider (and play button) over the logged training steps;
    shows :func:`plots.plot_training_snapshot` (prefix-matching scores of every head at that
    step, and the loss curves with a marker)."""
    import ipywidgets as w

    arrays = _record_arrays(record)
    steps = [int(s) for s in arrays["steps"]]
    change = phase_change_step(record) if change_step is None else int(change_step)
    slider = w.SelectionSlider(options=steps, value=steps[-1], description="Passo", continuous_update=False,
                               layout=w.Layout(width="60%"))
    play = w.Play(min=0, max=len(steps) - 1, step=1, interval=600, value=len(steps) - 1, description="Animar")
    w.jslink((play, "value"), (slider, "index"))
    image = w.Image(format="png")
    readout = w.HTML()

    def redraw(*_):
        i = slider.index
        image.value = _png(plot_training_snapshot(record, steps[i], change_step=change))
        pm = arrays["prefix_matching"][i]
        layer, head = divmod(int(np.argmax(pm)), pm.shape[1])
        readout.value = (
            f"Passo {steps[i]}: perda {arrays['loss'][i]:.2f} · perda em repetições {arrays['loss_repeats'][i]:.2f}"
            f" · pontuação de aprendizado em contexto {arrays['icl_score'][i]:.2f} · maior correspondência de prefixo: "
            f"cabeça {head_name((layer, head))} ({pm[layer, head]:.2f})"
        )

    slider.observe(redraw, names="value")
    redraw()
    return _box([w.HBox([play, slider]), readout, image], {"step": slider, "play": play},
                {"figure": image, "readout": readout})


# ======================================================================================
# Showing both
# ======================================================================================


def live_widgets_wanted() -> bool:
    """True in Colab, or when ``INDUCTION_HEADS_LIVE=1`` (then :func:`show` adds the live widget)."""
    flag = os.environ.get("INDUCTION_HEADS_LIVE", "").strip().lower()
    if flag in ("1", "true", "yes", "sim"):
        return True
    if flag in ("0", "false", "no", "nao", "não"):
        return False
    return "google.colab" in sys.modules


def show(static, live: Callable[[], object] | object | None = None):
    """Display a kernel-free widget and, where a kernel can drive it, its live version.

    ``static`` is the HTML from one of the ``*_html`` functions (always displayed: it works in
    the static book, Jupyter and Colab). ``live`` is a zero-argument callable building the live
    widget (e.g. ``lambda: attention_explorer(model, tok, text=t)``) or the widget itself; it
    is built and displayed only if :func:`live_widgets_wanted` (Colab, or
    ``INDUCTION_HEADS_LIVE=1``), so the book build never computes it. Returns the live widget
    if it was shown, else ``None``.
    """
    from IPython.display import HTML, display

    if not isinstance(static, HTML):
        raise TypeError(f"static must be the IPython HTML of a *_html widget, got {type(static).__name__}")
    display(static)
    if live is None or not live_widgets_wanted():
        return None
    widget = live() if callable(live) and not hasattr(live, "_repr_mimebundle_") else live
    display(widget)
    return widget
