/* Text files imported with `with { type: "text" }` are bundled into the executable as strings. */
declare module "*.md" {
  const text: string;
  export default text;
}

/* Files imported with `with { type: "file" }` resolve to a path (inside /$bunfs when compiled). */
declare module "swagger-ui-dist/*" {
  const path: string;
  export default path;
}
