#version 330 core
// normfield-viewer: a fullscreen triangle made from gl_VertexID (no vertex buffers; bind any VAO and
// draw with glDrawArrays(GL_TRIANGLES, 0, 3)). v_uv runs over [0, 1]^2 across the viewport, so output
// pixel row y samples source texel row y: the image keeps the source's row order.
out vec2 v_uv;

void main() {
  vec2 p = vec2(float((gl_VertexID << 1) & 2), float(gl_VertexID & 2));  // (0,0) (2,0) (0,2)
  v_uv = p;
  gl_Position = vec4(p * 2.0 - 1.0, 0.0, 1.0);
}
