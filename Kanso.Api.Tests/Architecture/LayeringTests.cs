using NetArchTest.Rules;

namespace Kanso.Api.Tests.Architecture;

/// <summary>
/// The layout docs/ARCHITECTURE.md describes, checked on the compiled API (method bodies included):
/// a slice never uses another slice, Domain never uses a slice, and Infrastructure uses neither.
/// </summary>
public sealed class LayeringTests
{
    private const string Features = "Kanso.Api.Features";
    private const string Domain = "Kanso.Api.Domain";
    private const string Infrastructure = "Kanso.Api.Infrastructure";

    private static readonly System.Reflection.Assembly Api = typeof(Program).Assembly;

    public static TheoryData<string> Slices()
    {
        var data = new TheoryData<string>();
        foreach (var slice in SliceNamespaces())
        {
            data.Add(slice);
        }

        return data;
    }

    [Fact]
    public void Finds_every_slice()
    {
        // Guards the theory below against finding nothing (a renamed root namespace would pass it vacuously).
        Assert.Contains($"{Features}.PushChanges", SliceNamespaces());
        Assert.True(SliceNamespaces().Count >= 19);
    }

    [Theory]
    [MemberData(nameof(Slices))]
    public void A_slice_does_not_use_another_slice(string slice)
    {
        var others = SliceNamespaces().Where(s => s != slice).ToArray();

        var result = Types.InAssembly(Api).That().ResideInNamespace(slice).Should().NotHaveDependencyOnAny(others).GetResult();

        Assert.True(result.IsSuccessful, $"{slice} uses another slice: {Failing(result)}");
    }

    [Fact]
    public void Domain_does_not_use_the_slices()
    {
        var result = Types.InAssembly(Api).That().ResideInNamespace(Domain).Should().NotHaveDependencyOnAny(Features).GetResult();

        Assert.True(result.IsSuccessful, $"Domain uses Features: {Failing(result)}");
    }

    [Fact]
    public void Infrastructure_uses_neither_the_domain_nor_the_slices()
    {
        var result = Types.InAssembly(Api).That().ResideInNamespace(Infrastructure).Should().NotHaveDependencyOnAny(Features, Domain).GetResult();

        Assert.True(result.IsSuccessful, $"Infrastructure uses Kanso's own code: {Failing(result)}");
    }

    private static List<string> SliceNamespaces() =>
        Api.GetTypes()
            .Select(t => t.Namespace)
            .OfType<string>()
            .Where(ns => ns.StartsWith(Features + ".", StringComparison.Ordinal))
            .Select(ns => string.Join('.', ns.Split('.').Take(4)))
            .Distinct()
            .Order(StringComparer.Ordinal)
            .ToList();

    private static string Failing(TestResult result) =>
        string.Join(", ", result.FailingTypes?.Select(t => $"{t.FullName} ({t.Explanation})") ?? []);
}
