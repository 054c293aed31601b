import postgres from "postgres";
import { testApp } from "../tests/helpers/context";

const sql = postgres(process.env.DATABASE_URL!);
const [r] =
  await sql`select split_part(user_agent,':',3) as t from user_session where user_agent like 'hotbench:0:%'`;
await sql.end();
const { app } = await testApp({
  ENVIRONMENT: "development",
  SECRET_KEY: "hb7Qz2Lp9Xw4Rt6Yv1Nc8Mk3Jd5Fg0Sa2Zx7Cv4Bn6Hm9Kl1Pq3We5Rt8Yu0Io2As4Df6Gh8Jk0Lz",
});
const h = { authorization: `Bearer ${r.t}` };
const path = process.argv[2] ?? "/api/v1/project?limit=20";
const one = () => app.handle(new Request(`http://localhost${path}`, { headers: h })).then((x) => x.text());
for (let i = 0; i < 50; i++) await one();
const t = performance.now();
// 16 concurrent loops, like a loaded server
await Promise.all(
  Array.from({ length: 16 }, async () => {
    for (let i = 0; i < 200; i++) await one();
  }),
);
console.log(path, (3200 / ((performance.now() - t) / 1000)).toFixed(0), "req/s");
process.exit(0);
