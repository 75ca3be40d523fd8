namespace AgentCrm.Functions.Tests.Infrastructure;

/// <summary>Secrets the test apps run with: made up per test run, never a real one.</summary>
public static class TestSecrets
{
    public static string SigningKey { get; } = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(48));
}
