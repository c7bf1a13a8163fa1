#pragma once
/// \file
/// The learned sparse smoother: M ≈ A⁻¹ with the nonzero pattern of A, written entry by
/// entry by a small network that reads only the matrix (issue 14). It is meant for the levels
/// of PETSc's own multigrid (`-mg_levels_pc_type surrogate_smoother`): applying M is one
/// MatMult, so it runs on any number of processes, on any AIJ operator (1–3-D, any stencil,
/// DMPlex), and PETSc builds the hierarchy and solves the coarse problem.
///
/// Everything is read through the symmetric scaling Ŝ = D^{-1/2} A D^{-1/2} (D = diag A, which
/// must be positive): ŝ_ij = a_ij / √(a_ii a_jj) does not change when a program scales rows
/// and columns alike, chooses another mesh size or writes boundary rows as scaled identities.
///
/// Features of entry (i, j) (kSmootherFeatures channels; all symmetric in i and j, so for a
/// symmetric A the network writes a symmetric M):
///   ŝ_ij, [i = j], (σ_i + σ_j)/2, |σ_i − σ_j|, (τ_i + τ_j)/2, |τ_i − τ_j|
/// with the row statistics σ_i = Σ_{j≠i} |ŝ_ij| (how strongly row i couples) and τ_i = Σ_j ŝ_ij
/// (0 inside a Laplacian, > 0 next to a Dirichlet boundary, 1 for an identity row).
///
/// Several fields per grid point (a DMDA with dof > 1, e.g. Gray–Scott's two): a model trained
/// with `pins train -task smoother -smoother_dof 2` reads one more channel, [field(i) =
/// field(j)], so it can tell a coupling between two fields at one point from a coupling along
/// one field (kSmootherFieldFeatures channels). A scalar model also runs on such operators; it
/// sees every entry alike.
///
/// From the network output y_ij: off the diagonal m̂_ij = y_ij; on it m̂_ii = softplus(y_ii) +
/// Σ_{j≠i} |m̂_ij|, so M̂ is strictly diagonally dominant with a positive diagonal, hence SPD
/// when symmetric (Gershgorin); M = D^{-1/2} M̂ D^{-1/2}. An SPD M keeps Chebyshev's eigenvalue
/// estimates and CG valid. Jacobi (M̂ = I) is one choice the network can make.
///
/// Rows may belong to one process of many: a pattern of n local rows and m ≥ n columns,
/// numbered so that column i < n is row i's own unknown and columns n … m − 1 are the ghost
/// unknowns its rows couple to. What a row's features need of a ghost column (its diagonal and
/// its row statistics) is passed in per column, so set-up needs one ghost exchange of three
/// numbers per ghost, and no process ever sees more than its rows.
///
/// Training (`pins train -task smoother`, pins/core/smoother_train.hpp) needs no solves: it
/// minimises smoother_loss on sampled operators and random vectors.
///
/// Example:
/// \code
///   pins::SparsePattern p = ...;                       // n x m, own columns first
///   auto d = column_diagonal;                          // [1, m] (ghosts from neighbours)
///   auto st = pins::smoother_row_statistics(p, a, d);  // [1, 2, n]: exchange for ghosts
///   auto x = pins::smoother_features(p, a, d, stats_of_all_columns);  // [1, 6, nnz]
///   auto m = pins::smoother_values(p, d, model->forward(x));          // [1, nnz]: M's values
/// \endcode

#include <torch/types.h>

#include <string>

namespace pins {

class SparsePattern;
class StencilOperator;
class Surrogate;

/// Task name recorded in the manifests of smoother models.
inline constexpr const char* kSmootherTask = "smoother";
/// Feature channels of each matrix entry (see the file comment).
inline constexpr int kSmootherFeatures = 6;
/// Feature channels of a multi-field model: kSmootherFeatures and [field(i) = field(j)].
inline constexpr int kSmootherFieldFeatures = kSmootherFeatures + 1;
/// Row statistics per row (σ, τ).
inline constexpr int kSmootherStatistics = 2;
/// The architecture `pins train -task smoother` uses unless told otherwise.
inline constexpr const char* kDefaultSmootherSurrogate = "entry_mlp";

/// Throws pins::Error unless every column diagonal [B, m] is positive and finite, naming the
/// first bad one (`who` starts the message, e.g. "-pc_type surrogate_smoother").
void check_smoother_diagonal(const char* who, const torch::Tensor& column_diagonal);

/// σ and τ of every row of `pattern` (n x m) for values [B, nnz] and the diagonal of every
/// column [B, m]: [B, 2, n]. Not differentiable (features are inputs).
torch::Tensor smoother_row_statistics(const SparsePattern& pattern, const torch::Tensor& values,
                                      const torch::Tensor& column_diagonal);

/// The features [B, kSmootherFeatures, nnz] of every entry, given the diagonal [B, m] and the
/// row statistics [B, 2, m] of every column (own rows first, then ghosts). With the field of
/// every column `column_field` ([m] int64, the same for the whole batch), the features of a
/// multi-field model: [B, kSmootherFieldFeatures, nnz].
torch::Tensor smoother_features(const SparsePattern& pattern, const torch::Tensor& values,
                                const torch::Tensor& column_diagonal,
                                const torch::Tensor& column_statistics,
                                const torch::Tensor& column_field = {});

/// Whether a smoother model with `in_channels` inputs reads each entry's fields
/// (kSmootherFieldFeatures: trained for several fields, it needs each row's field) or not
/// (kSmootherFeatures). Throws pins::Error for any other channel count.
bool smoother_model_reads_fields(int in_channels);

/// M's values [B, nnz] (pattern of A) from the network output [B, 1, nnz] (see the file
/// comment). Differentiable in the output.
torch::Tensor smoother_values(const SparsePattern& pattern, const torch::Tensor& column_diagonal,
                              const torch::Tensor& network_output);

/// For a square pattern (every column is a row): features, network and values in one call,
/// M's values [B, nnz]; differentiable in the model's parameters. A multi-field model needs
/// the field of every row (`field`, [n] int64).
torch::Tensor smoother_apply_model(Surrogate& model, const SparsePattern& pattern,
                                   const torch::Tensor& values, const torch::Tensor& field = {});

/// The training loss for a square pattern, A's and M's values [B, nnz] and random vectors z
/// [B, n]: mean over the batch of min_ω ‖(I − ωMA) z‖²_A / ‖z‖²_A = 1 − ⟨MAz, Az⟩² /
/// (‖z‖²_A ⟨MAz, AMAz⟩), the energy-norm error left by one damped step of M from the error z.
/// The A-norm weighs each mode by its eigenvalue, so the high frequencies a smoother must
/// remove dominate; the best ω makes the loss blind to M's scale, which Chebyshev sets anyway.
/// Differentiable in M's values.
torch::Tensor smoother_loss(const SparsePattern& pattern, const torch::Tensor& a_values,
                            const torch::Tensor& m_values, const torch::Tensor& z);

/// The CSR form of a batch of stencil operators: pattern (n x n, n = grid points × dof, in the
/// fields' memory order) and values [B, nnz]; couplings that point out of the grid are left
/// out, as the operator ignores them. Not differentiable.
std::pair<SparsePattern, torch::Tensor> stencil_to_csr(const StencilOperator& A);

}  // namespace pins
