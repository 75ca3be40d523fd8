using System.Diagnostics;
using System.Net;
using AgentCrm.Functions.Tests.Infrastructure;
using AgentCrm.Tests.Support;

namespace AgentCrm.Functions.Tests.Processes;

/// <summary>`dotnet publish` yields a function app the Functions host can run as it is.</summary>
public class PublishTests
{
    [Fact]
    public async Task Publish_produces_a_complete_function_app_that_starts_the_way_the_host_starts_it()
    {
        var output = Directory.CreateTempSubdirectory("agentcrm-publish-");
        try
        {
            // --no-build publishes the build the other tests run, so it never rewrites their binaries mid-run.
            var publish = Process.Start(new ProcessStartInfo("dotnet", ["publish", RepoPaths.Path("src", "Functions"), "--no-build", "-c", AppProcess.BuildConfiguration, "-o", output.FullName, "-nologo", "-v", "quiet"])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            })!;
            var log = await publish.StandardOutput.ReadToEndAsync() + await publish.StandardError.ReadToEndAsync();
            await publish.WaitForExitAsync();
            Assert.True(publish.ExitCode == 0, log);

            string[] expected = ["host.json", "Api/function.json", "Maintenance/function.json", "AgentCrm.Functions.dll", "AgentCrm.Functions.runtimeconfig.json", "AgentCrm.Core.dll", "Npgsql.dll"];
            Assert.All(expected, f => Assert.True(File.Exists(Path.Combine(output.FullName, f)), $"{f} missing from the publish output"));
            Assert.Equal(File.ReadAllText(RepoPaths.Path("host.json")), File.ReadAllText(Path.Combine(output.FullName, "host.json")));

            // Start it as host.json says: `dotnet AgentCrm.Functions.dll --urls http://127.0.0.1:%FUNCTIONS_CUSTOMHANDLER_PORT%` in the app root.
            await using var db = await TestDatabase.CreateAsync(migrate: true);
            var port = AppProcess.FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture);
            await using var app = AppProcess.Start(
                new Dictionary<string, string?> { ["Postgres__Pooled"] = db.ConnectionString, ["FUNCTIONS_CUSTOMHANDLER_PORT"] = port },
                workingDirectory: output.FullName, dll: "AgentCrm.Functions.dll", args: ["--urls", $"http://127.0.0.1:{port}"]);
            await app.WaitForLineAsync(l => l.Contains("AgentCrm listening on", StringComparison.Ordinal), TimeSpan.FromSeconds(30));
            using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/")).StatusCode);
            var tick = new StringContent("""{"Data":{"timer":{"IsPastDue":false}},"Metadata":{}}""", System.Text.Encoding.UTF8, "application/json");
            Assert.Equal(HttpStatusCode.OK, (await client.PostAsync("/Maintenance", tick)).StatusCode);
        }
        finally
        {
            output.Delete(recursive: true);
        }
    }
}
