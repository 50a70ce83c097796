#version 330 core
// normfield-viewer: mesh shading. A headlight (a light at the camera) with Lambert's law, lit from
// both sides (|n . l|: inner faces of open or thin parts stay visible), over a base colour mixed
// with the normal colour (world normal * 0.5 + 0.5, as normal maps show it):
//   colour = mix(u_base, normal colour, u_normal_mix) * (u_ambient + (1 - u_ambient) * |n . l|)
// Back faces (seen from inside) are darkened a little so holes read as holes. u_alpha < 1 blends
// the mesh over the field's picture ("both").
in vec3 v_pos_cam;
in vec3 v_normal_cam;
in vec3 v_normal_world;
out vec4 frag_color;

uniform vec3 u_base;
uniform float u_normal_mix;
uniform float u_ambient;
uniform float u_alpha;

void main() {
  vec3 n = normalize(v_normal_cam);
  vec3 l = normalize(-v_pos_cam);  // towards the camera
  float lambert = dot(n, l);
  float shade = u_ambient + (1.0 - u_ambient) * abs(lambert);
  vec3 c = mix(u_base, normalize(v_normal_world) * 0.5 + 0.5, u_normal_mix) * shade;
  if (lambert < 0.0) c *= 0.6;
  frag_color = vec4(c, u_alpha);
}
