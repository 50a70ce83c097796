#version 330 core
// normfield-viewer: maps a single-channel float texture to colour.
//   t = clamp((value - u_lo) / (u_hi - u_lo), 0, 1),  colour = map(t)
// u_map 0: "heat"    black -> red -> yellow -> white, the same ramp as nf::error_map (error views)
// u_map 1: "inferno" perceptually ordered (polynomial fit of matplotlib's inferno; spectrum views)
// u_map 2: "gray"
in vec2 v_uv;
out vec4 frag_color;

uniform sampler2D u_src;
uniform int u_map;
uniform float u_lo;
uniform float u_hi;

vec3 heat(float t) {
  return clamp(vec3(3.0 * t, 3.0 * t - 1.0, 3.0 * t - 2.0), 0.0, 1.0);
}

vec3 inferno(float t) {
  const vec3 c0 = vec3(0.0002189403691192265, 0.001651004631001012, -0.01948089843709184);
  const vec3 c1 = vec3(0.1065134194856116, 0.5639564367884091, 3.932712388889277);
  const vec3 c2 = vec3(11.60249308247187, -3.972853965665698, -15.9423941062914);
  const vec3 c3 = vec3(-41.70399613139459, 17.43639888205313, 44.35414519872813);
  const vec3 c4 = vec3(77.162935699427, -33.40235894210092, -81.80730925738993);
  const vec3 c5 = vec3(-71.31942824499214, 32.62606426397723, 73.20951985803202);
  const vec3 c6 = vec3(25.13112622477341, -12.24266895238567, -23.07032500287172);
  return clamp(c0 + t * (c1 + t * (c2 + t * (c3 + t * (c4 + t * (c5 + t * c6))))), 0.0, 1.0);
}

void main() {
  float v = texture(u_src, v_uv).r;
  float t = clamp((v - u_lo) / max(u_hi - u_lo, 1e-12), 0.0, 1.0);
  vec3 c;
  if (u_map == 0) {
    c = heat(t);
  } else if (u_map == 1) {
    c = inferno(t);
  } else {
    c = vec3(t);
  }
  frag_color = vec4(c, 1.0);
}
