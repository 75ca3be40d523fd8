using System.Globalization;
using AgentCrm.Core.Demo;

namespace AgentCrm.Functions.Cli;

/// <summary>`demo-seed`: the local demo user, workspace and contacts, and how to call the API as them.</summary>
public sealed class DemoSeedVerb : CliVerb
{
    public override string Name => "demo-seed";

    public override string Summary => "Create (or top up) the demo user, workspace and contacts; print a token and example calls.";

    public override string Usage => """
        Usage: AgentCrm.Functions demo-seed [--contacts N] [--token-file PATH] [--ids-file PATH]

        Signs up (or signs in) demo@agentcrm.dev, makes its workspace and tops it up to N contacts
        (default 300), through the same services the API uses, then prints an access token and example
        calls. Refused in Production. Needs the app's settings and a migrated database (scripts/run).

          --contacts N       how many contacts the demo workspace should hold (1-100000)
          --token-file PATH  also write the access token to PATH (for scripts, e.g. scripts/bench)
          --ids-file PATH    also write the contact ids to PATH, one per line

        Exit codes: 0 done, 1 failed, 2 usage, 78 configuration.
        """;

    public override async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        var count = 300;
        string? tokenFile = null, idsFile = null;
        for (var i = 0; i < args.Length; i += 2)
        {
            var value = i + 1 < args.Length ? args[i + 1] : null;
            switch (args[i])
            {
                case "--contacts" when int.TryParse(value, CultureInfo.InvariantCulture, out var n) && n is >= 1 and <= 100_000:
                    count = n;
                    break;
                case "--token-file" when value is not null:
                    tokenFile = value;
                    break;
                case "--ids-file" when value is not null:
                    idsFile = value;
                    break;
                default:
                    await error.WriteLineAsync($"Unknown or incomplete option \"{args[i]}\".{Environment.NewLine}{Usage}");
                    return CliVerbs.UsageError;
            }
        }

        await using var app = AgentCrmApp.Build([]);
        if (app.Environment.IsProduction())
        {
            await error.WriteLineAsync("demo-seed refuses to run in Production (set ASPNETCORE_ENVIRONMENT=Development).");
            return 1;
        }

        var demo = await app.Services.GetRequiredService<DemoSeeder>().SeedAsync(count, cancellationToken);
        if (tokenFile is not null)
        {
            await File.WriteAllTextAsync(tokenFile, demo.Tokens.AccessToken, cancellationToken);
        }

        if (idsFile is not null)
        {
            await File.WriteAllLinesAsync(idsFile, demo.ContactIds.Select(id => id.ToString()), cancellationToken);
        }

        await output.WriteLineAsync($$"""
            Demo workspace {{demo.WorkspaceId}} holds {{demo.ContactIds.Count}} contacts.
              user      {{demo.Email}}
              password  {{demo.Password}}
              token     {{demo.Tokens.AccessToken}}
              (valid {{demo.Tokens.ExpiresIn / 60}} minutes; POST /api/auth/login for another)

            Try:
              export TOKEN='{{demo.Tokens.AccessToken}}'
              curl -s 'http://localhost:7071/api/contacts?limit=3' -H "Authorization: Bearer $TOKEN"
              curl -s 'http://localhost:7071/api/contacts/{{demo.ContactIds[0]}}' -H "Authorization: Bearer $TOKEN"
              curl -s 'http://localhost:7071/api/contacts?tag=vip&status=active' -H "Authorization: Bearer $TOKEN"
              curl -s -X POST http://localhost:7071/api/contacts -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
                   -H "Idempotency-Key: $(uuidgen 2>/dev/null || date +%s%N)" -d '{"email":"new.person@example.com","name":"New Person"}'
              curl -s http://localhost:7071/api/dashboard -H "Authorization: Bearer $TOKEN"
              curl -s http://localhost:7071/api/openapi/v1.json
            """);
        return 0;
    }
}
