#version 330 core
// normfield-viewer: an extracted mesh seen from the 3-D view's camera.
//   u_view: world -> camera (OpenGL axes: x right, y up, looking down -z), u_proj: camera -> clip.
in vec3 a_pos;     // world position
in vec3 a_normal;  // world normal (outward, unit)
out vec3 v_pos_cam;
out vec3 v_normal_cam;
out vec3 v_normal_world;

uniform mat4 u_view;
uniform mat4 u_proj;

void main() {
  vec4 p = u_view * vec4(a_pos, 1.0);
  v_pos_cam = p.xyz;
  v_normal_cam = mat3(u_view) * a_normal;  // u_view is a rigid motion: no inverse-transpose needed
  v_normal_world = a_normal;
  gl_Position = u_proj * p;
}
