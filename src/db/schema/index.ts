export * from "./analysis";
export * from "./audit";
export * from "./identity";
export * from "./projects";
