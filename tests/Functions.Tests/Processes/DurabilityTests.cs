using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using AgentCrm.Functions.Tests.Infrastructure;
using AgentCrm.Tests.Support;

namespace AgentCrm.Functions.Tests.Processes;

/// <summary>Runs alone, after every parallel test: it crashes the shared PostgreSQL server.</summary>
[CollectionDefinition(nameof(ServerRestarts), DisableParallelization = true)]
public sealed class ServerRestarts;

[Collection(nameof(ServerRestarts))]
public class DurabilityTests
{
    [Fact]
    public async Task Every_accepted_write_survives_a_killed_app_and_a_crashed_postgres()
    {
        await using var db = await TestDatabase.CreateAsync(migrate: true);
        var port = AppProcess.FreePort();
        var environment = new Dictionary<string, string?>
        {
            ["Postgres__Pooled"] = db.AppConnectionString,
            ["Postgres__Owner"] = db.ConnectionString,
            ["ASPNETCORE_ENVIRONMENT"] = "Development",
            ["urls"] = $"http://127.0.0.1:{port}",
        };
        using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
        var accepted = new List<string>();
        string token;
        await using (var app = AppProcess.Start(environment))
        {
            await app.WaitForLineAsync(l => l.Contains("AgentCrm listening on", StringComparison.Ordinal), TimeSpan.FromSeconds(30));
            var tokens = await PostAsync(client, "/api/auth/register", null, new { email = "durable@example.test", password = "correct horse 42", displayName = "D" });
            token = tokens.GetProperty("accessToken").GetString()!;
            await PostAsync(client, "/api/workspaces", token, new { name = "Durable" });
            token = (await PostAsync(client, "/api/auth/login", null, new { email = "durable@example.test", password = "correct horse 42" }, HttpStatusCode.OK))
                .GetProperty("accessToken").GetString()!;
            for (var i = 0; i < 20; i++)
            {
                accepted.Add((await PostAsync(client, "/api/contacts", token, new { email = $"c{i}@example.test", name = $"Contact {i}" })).GetProperty("id").GetString()!);
            }

            // The last answer is in hand; nothing gets a chance to flush after it.
            app.KillHard();
        }

        RunScript("servers", "crash-restart-postgres");

        await using var restarted = AppProcess.Start(environment);
        await restarted.WaitForLineAsync(l => l.Contains("AgentCrm listening on", StringComparison.Ordinal), TimeSpan.FromSeconds(30));
        foreach (var id in accepted)
        {
            using var request = TenantSeeder.Request(HttpMethod.Get, $"/api/contacts/{id}", token);
            Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(request)).StatusCode);
        }

        var login = await PostAsync(client, "/api/auth/login", null, new { email = "durable@example.test", password = "correct horse 42" }, HttpStatusCode.OK);
        Assert.NotNull(login.GetProperty("workspaceId").GetString());
    }

    private static async Task<JsonElement> PostAsync(HttpClient client, string path, string? token, object body, HttpStatusCode expected = HttpStatusCode.Created)
    {
        using var request = TenantSeeder.Request(HttpMethod.Post, path, token, body);
        return await HttpAssert.JsonAsync(await client.SendAsync(request), expected);
    }

    private static void RunScript(string script, params string[] args)
    {
        var info = new ProcessStartInfo(RepoPaths.Path("scripts", script)) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        using var process = Process.Start(info)!;
        var errors = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"scripts/{script} {string.Join(' ', args)} failed: {errors}");
    }
}
