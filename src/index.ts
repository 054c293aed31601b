import { run } from "@/cli/main";

await run(process.argv.length > 2 ? process.argv.slice(2) : ["serve"]);
