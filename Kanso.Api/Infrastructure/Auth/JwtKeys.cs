using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;

namespace Kanso.Api.Infrastructure.Auth;

/// <summary>The keys of the configured algorithm: one to verify and, where a private key is given, one to sign.</summary>
internal sealed class JwtKeys
{
    public JwtKeys(IOptions<JwtOptions> options)
    {
        var o = options.Value;
        Algorithm = o.Algorithm == "RS256" ? SecurityAlgorithms.RsaSha256 : SecurityAlgorithms.HmacSha256;
        if (o.Algorithm == "RS256")
        {
            RsaSecurityKey? signing = null;
            if (!string.IsNullOrWhiteSpace(o.PrivateKeyPem))
            {
                var privateRsa = RSA.Create();
                privateRsa.ImportFromPem(o.PrivateKeyPem);
                signing = new RsaSecurityKey(privateRsa);
            }

            RsaSecurityKey verification;
            if (!string.IsNullOrWhiteSpace(o.PublicKeyPem))
            {
                var publicRsa = RSA.Create();
                publicRsa.ImportFromPem(o.PublicKeyPem);
                verification = new RsaSecurityKey(publicRsa);
            }
            else
            {
                verification = new RsaSecurityKey(signing!.Rsa.ExportParameters(includePrivateParameters: false));
            }

            VerificationKey = verification;
            SigningCredentials = signing is null ? null : new SigningCredentials(signing, Algorithm);
        }
        else
        {
            var key = new SymmetricSecurityKey(Encoding.UTF8.GetBytes(o.SigningKey!));
            VerificationKey = key;
            SigningCredentials = new SigningCredentials(key, Algorithm);
        }
    }

    public string Algorithm { get; }

    public SecurityKey VerificationKey { get; }

    /// <summary>Null on an RS256 verifier that holds only the public key.</summary>
    public SigningCredentials? SigningCredentials { get; }
}
