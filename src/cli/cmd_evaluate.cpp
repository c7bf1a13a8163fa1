// pins evaluate: a model's accuracy, physics residual and speed against PETSc on a dataset.

#include <torch/torch.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "cli_options.hpp"
#include "commands.hpp"
#include "evaluate_newton_report.hpp"
#include "evaluate_output.hpp"
#include "evaluate_refine.hpp"
#include "evaluate_rollout_report.hpp"
#include "pde/registry.hpp"
#include "pins/core/check.hpp"
#include "pins/core/dataset.hpp"
#include "pins/core/model_file.hpp"
#include "pins/core/train_job.hpp"  // read_training_datasets
#include "pins/core/trainer.hpp"
#include "pins/petsc/evaluate.hpp"

namespace pins::cli {

namespace {

std::string fmt(double v, const char* f = "%.4g") {
  return format_number(v, f);
}

}  // namespace

int run_evaluate(MPI_Comm comm, const std::string& command_line) {
  char model_path[PETSC_MAX_PATH_LEN] = "", data[PETSC_MAX_PATH_LEN] = "";
  char output[PETSC_MAX_PATH_LEN] = "evaluation";
  char refine[256] = "";
  PetscBool refine_set = PETSC_FALSE;
  PetscInt solve_samples = 8, plot_samples = 3, threads = 0;
  PetscReal newton_rtol = 0, memory = 0;
  PetscBool force = PETSC_FALSE, plot = PETSC_TRUE, help = PETSC_FALSE;
  read_options([&]() -> PetscErrorCode {
    PetscFunctionBeginUser;
    PetscOptionsBegin(comm, nullptr, "pins evaluate: test a model against a dataset (rank 0)",
                      "pins");
    PetscCall(PetscOptionsString("-model", "Model file (pins train -o), required", "pins evaluate",
                                 model_path, model_path, sizeof model_path, nullptr));
    PetscCall(PetscOptionsString("-data", "Test dataset (HDF5), required", "pins evaluate", data,
                                 data, sizeof data, nullptr));
    PetscCall(PetscOptionsString("-o", "Report folder (report.json, report.md, figures)",
                                 "pins evaluate", output, output, sizeof output, nullptr));
    PetscCall(PetscOptionsBool("-force", "Overwrite an existing report", "pins evaluate", force,
                               &force, nullptr));
    PetscCall(PetscOptionsInt("-evaluate_solve_samples",
                              "Samples re-solved with PETSc for the timing comparison",
                              "pins evaluate", solve_samples, &solve_samples, nullptr));
    PetscCall(PetscOptionsInt("-evaluate_plot_samples", "Samples shown in the figures",
                              "pins evaluate", plot_samples, &plot_samples, nullptr));
    PetscCall(PetscOptionsBool("-evaluate_plot", "Make PNG figures (python3 + matplotlib)",
                               "pins evaluate", plot, &plot, nullptr));
    PetscCall(PetscOptionsString("-refine",
                                 "Also refine the predictions by k multigrid V-cycles, for each "
                                 "k of a comma list (e.g. 0,1,5,20), against PETSc's time to "
                                 "the same error",
                                 "pins evaluate", refine, refine, sizeof refine, &refine_set));
    PetscCall(PetscOptionsReal("-evaluate_newton_rtol",
                               "Nonlinear families: Newton from the guess and from zero to "
                               "||F(u)|| <= this ||F(0)|| (0: the dataset's tolerance)",
                               "pins evaluate", newton_rtol, &newton_rtol, nullptr));
    PetscCall(PetscOptionsInt("-evaluate_threads", "LibTorch threads (0: the cores available)",
                              "pins evaluate", threads, &threads, nullptr));
    PetscCall(PetscOptionsReal("-evaluate_memory",
                               "MB of dataset values to hold (0: auto, a quarter of the "
                               "available memory); a larger dataset is streamed from its file, "
                               "a block of samples at a time",
                               "pins evaluate", memory, &memory, nullptr));
    PetscOptionsEnd();
    PetscCall(PetscOptionsHasHelp(nullptr, &help));
    PetscFunctionReturn(0);
  });
  if (help) return 0;
  on_rank0(comm, [&] {
    const std::string mpath = model_path, dpath = data, out = output;
    PINS_CHECK(!mpath.empty(), "-model <file.pins> is required: the model to evaluate");
    PINS_CHECK(!dpath.empty(), "-data <file.h5> is required: the test dataset");
    PINS_CHECK(solve_samples >= 1, "-evaluate_solve_samples must be at least 1, got ",
               solve_samples);
    PINS_CHECK(plot_samples >= 0, "-evaluate_plot_samples must be >= 0, got ", plot_samples);
    PINS_CHECK(newton_rtol >= 0 && newton_rtol < 1,
               "-evaluate_newton_rtol must be in [0, 1) (0: the dataset's tolerance), got ",
               newton_rtol);
    const std::vector<int> refine_counts =
        refine_set ? parse_refine_counts(refine) : std::vector<int>{};
    const std::string report = out + "/report.json";
    PINS_CHECK(force || !std::filesystem::exists(report), "-o ", out,
               " already holds a report; pass -force to overwrite it");
    // The folder is created at the end: it, or else its parent, must be writable.
    check_output_path(std::filesystem::is_directory(out) ? out + "/report.md" : out, "-o", true);
    set_training_threads(int(threads));

    PINS_CHECK(memory >= 0, "-evaluate_memory must be >= 0 (MB; 0: auto), got ", double(memory));
    // Whole, or (larger than -evaluate_memory) its attributes only, streamed block by block.
    const std::int64_t budget = training_memory_budget(double(memory), 1);
    const Dataset d = read_training_datasets({dpath}, budget).front();
    require_labelled(d.info, dpath, "pins evaluate compares the model with stored solutions");
    const ModelManifest manifest = read_model_manifest(mpath);
    const ModelRequirements need = petsc::evaluation_requirements(manifest.architecture, d.info);
    LoadedModel loaded = load_model(mpath, need);
    const petsc::Evaluation e =
        petsc::evaluate_model(*loaded.model, manifest, mpath, d, dpath, int(solve_samples),
                              "evaluate_", refine_counts, double(newton_rtol), budget);
    const TrainingData& td = e.data;
    const Summary &err = e.error, &phys = e.residual, &data_res = e.petsc_residual;
    const double single = e.seconds_single, batched = e.seconds_batched, petsc = e.seconds_petsc;
    const int solves = e.petsc_samples;
    const int64_t n = d.samples;
    const torch::Tensor &pred = e.prediction, &rel = e.relative_l2;
    nlohmann::json j = e.report;
    j["command"] = command_line;
    std::ostringstream md;
    md << "# pins evaluate\n\n"
       << "Model `" << mpath << "` (" << manifest.architecture << ", trained on "
       << manifest.grid_nx << "x" << manifest.grid_ny
       << (manifest.grid_nz > 0 ? "x" + std::to_string(manifest.grid_nz) : std::string())
       << ") on `" << dpath << "` ("
       << (d.info.times > 0 ? std::to_string(n) + " trajectories, " +
                                  std::to_string(n * (d.info.times - 1)) +
                                  " single steps from their states"
                            : std::to_string(n) + " samples")
       << ", " << d.info.grid_string() << ").\n\n"
       << "| metric | mean | median | 95th pct | max |\n|---|---|---|---|---|\n"
       << "| relative L2 error | " << fmt(err.mean) << " | " << fmt(err.median) << " | "
       << fmt(err.p95) << " | " << fmt(err.max) << " |\n"
       << "| relative residual ‖f−Aû‖/‖f‖ of the prediction | " << fmt(phys.mean) << " | "
       << fmt(phys.median) << " | " << fmt(phys.p95) << " | " << fmt(phys.max) << " |\n"
       << "| relative residual of the PETSc solutions | " << fmt(data_res.mean) << " | "
       << fmt(data_res.median) << " | " << fmt(data_res.p95) << " | " << fmt(data_res.max)
       << " |\n\n"
       << "Time per sample (this machine, this run): surrogate " << fmt(single * 1e3, "%.3g")
       << " ms one at a time, " << fmt(batched * 1e3, "%.3g") << " ms batched ("
       << torch::get_num_threads() << " threads); PETSc " << d.info.ksp_type << " + "
       << d.info.pc_type << " (rtol " << fmt(d.info.rtol) << ", assembly included, " << solves
       << " samples) " << fmt(petsc * 1e3, "%.3g") << " ms.\n";
    if (j.contains("error_bound")) {
      const auto& b = j["error_bound"];
      md << "\nCalibrated error bound (`pins calibrate`, level "
         << fmt(100 * b["level"].get<double>(), "%.3g") << " %, " << b["calibration_samples"]
         << " samples): bound = " << fmt(b["quantile"].get<double>()) << " x the answer's "
         << (b.value("score", "") == "error_estimate" ? "error estimate" : "relative residual")
         << "; on this set it covered " << fmt(100 * b["coverage"].get<double>(), "%.3g")
         << " % of the errors, Spearman correlation with the error "
         << (b["spearman_bound_error"].is_number() ? fmt(b["spearman_bound_error"].get<double>())
                                                    : std::string("n/a"))
         << ".\n";
      if (j.contains("out_of_distribution")) {
        const auto& o = j["out_of_distribution"];
        md << "Out-of-distribution flag (relative residual above "
           << fmt(o["residual_threshold"].get<double>())
           << (o.contains("input_threshold")
                   ? " or input score above " + fmt(o["input_threshold"].get<double>())
                   : std::string())
           << ", the calibration set's 99 % quantiles): "
           << fmt(100 * o["flagged_fraction"].get<double>(), "%.3g")
           << " % of these answers flagged.\n";
      }
    }
    if (j.contains("error_estimate") && j["error_estimate"].is_object()) {
      const auto& x = j["error_estimate"];
      md << "\nError estimate (" << x["method"].get<std::string>() << "): mean "
         << fmt(x["estimate"]["mean"].get<double>()) << " against the true mean "
         << fmt(err.mean) << "; Spearman correlation with the error "
         << (x["spearman_estimate_error"].is_number()
                 ? fmt(x["spearman_estimate_error"].get<double>())
                 : std::string("n/a"))
         << " (the certificate's: "
         << (x["spearman_certificate_error"].is_number()
                 ? fmt(x["spearman_certificate_error"].get<double>())
                 : std::string("n/a"))
         << "); " << fmt(x["seconds_per_answer"].get<double>() * 1e3, "%.3g")
         << " ms per answer.\n";
    }
    if (e.newton) md << newton_markdown(*e.newton, d.info);
    if (e.rollout) md << rollout_markdown(*e.rollout);

    std::filesystem::create_directories(out + "/plot_data");
    // A streamed dataset's report keeps the first block's predictions: enough for the pictures.
    const int64_t k = std::min<int64_t>(pred.size(0), plot_samples);
    // Pictures are 2-D: the first input field, the first solution component, and on 3-D
    // grids the middle z plane.
    const std::string first_input = d.info.inputs.front().name;
    const int dim = d.info.dim();
    auto picture = [&](torch::Tensor t, bool components) {
      t = t.slice(0, 0, k);
      if (components) t = t.select(1, 0);
      if (dim == 3) t = t.select(1, t.size(1) / 2);
      return t.contiguous();
    };
    write_npy(out + "/plot_data/input.npy",
              picture(td.input(first_input), d.info.inputs.front().components > 1));
    {
      std::ofstream name(out + "/plot_data/input_name.txt");
      name << first_input << (dim == 3 ? " (middle z plane)" : "") << "\n";
    }
    write_npy(out + "/plot_data/u_true.npy", picture(td.u, d.info.dof > 1));
    write_npy(out + "/plot_data/u_pred.npy", picture(pred, d.info.dof > 1));
    write_npy(out + "/plot_data/relative_l2.npy", rel);
    // Each answer's certificate (its relative residual): the out-of-distribution score.
    write_npy(out + "/plot_data/relative_residual.npy", e.relative_residual);
    // Each answer's error estimate and calibrated bound, where there are.
    for (const auto& [file, t] : {std::pair<const char*, torch::Tensor>{"error_estimate", e.error_estimate},
                                  {"bound", e.bound}}) {
      const std::string path = out + "/plot_data/" + file + ".npy";
      if (t.defined())
        write_npy(path, t);
      else
        std::filesystem::remove(path);  // an earlier report's
    }
    // A calibrated model's out-of-distribution score per answer (> 1: flagged).
    if (e.ood_score.defined())
      write_npy(out + "/plot_data/ood_score.npy", e.ood_score);
    else
      std::filesystem::remove(out + "/plot_data/ood_score.npy");  // an earlier report's
    for (const char* name : {"mesh_coordinates", "mesh_cells", "mesh_points"})
      std::filesystem::remove(out + "/plot_data/" + name + ".npy");  // an earlier report's
    if (const auto& mesh = d.info.mesh) {
      // Fields on a mesh are drawn on it: per-point values shaded, per-cell values flat.
      auto as_tensor = [](const auto& v, std::vector<int64_t> shape) {
        return torch::tensor(std::vector<double>(v.begin(), v.end()), torch::kFloat64)
            .view(shape);
      };
      write_npy(out + "/plot_data/mesh_coordinates.npy",
                as_tensor(mesh->coordinates, {mesh->vertex_count(), mesh->dim}));
      write_npy(out + "/plot_data/mesh_cells.npy",
                as_tensor(mesh->cells, {mesh->cell_count(), mesh->cell_vertices()}));
      write_npy(out + "/plot_data/mesh_points.npy",
                as_tensor(mesh->point_vertex, {mesh->point_count()}));
    }
    for (const char* name : {"rollout.json", "rollout_true.npy", "rollout_pred.npy"})
      std::filesystem::remove(out + "/plot_data/" + name);  // an earlier report's
    if (e.rollout) write_rollout_plot_data(*e.rollout, d.info.dof, dim, out);
    const bool refined = !e.refine.empty();
    const std::string refine_data = out + "/plot_data/refine.json";
    if (refined) {
      write_text_file(refine_data, refine_plot_data(e).dump(1) + "\n");
      md << refine_markdown(e);
    } else {
      std::filesystem::remove(refine_data);  // an earlier report's (-force)
    }
    std::string plot_problem = "disabled (-evaluate_plot 0)";
    if (plot) plot_problem = run_plot_script(out);
    if (plot_problem.empty()) {
      md << "\n![samples](samples.png)\n\n![error histogram](error_histogram.png)\n";
      j["figures"] = {"samples.png", "error_histogram.png"};
      if (refined) {
        md << "\n![test-time refinement: error against time per sample](refine.png)\n";
        j["figures"].push_back("refine.png");
      }
      if (e.rollout) {
        md << "\n![rollout: error against time, and one trajectory](rollout.png)\n";
        j["figures"].push_back("rollout.png");
      }
    } else if (plot) {
      std::fprintf(stderr, "pins evaluate: warning: no figures: %s\n", plot_problem.c_str());
    }
    write_text_file(report, j.dump(2) + "\n");
    write_text_file(out + "/report.md", md.str());
    std::printf("pins evaluate: %s on %s (%lld samples)\n", mpath.c_str(), dpath.c_str(),
                (long long)n);
    std::printf("  relative L2   mean %.4g  median %.4g  p95 %.4g\n", err.mean, err.median,
                err.p95);
    std::printf("  residual      mean %.4g (prediction)  vs %.3g (PETSc)\n", phys.mean,
                data_res.mean);
    std::printf("  time/sample   surrogate %.3g ms (single), %.3g ms (batched); PETSc %.3g ms\n",
                single * 1e3, batched * 1e3, petsc * 1e3);
    const bool ts_predictor = e.newton && e.newton->steps > 1;
    if (const auto& nw = e.newton; ts_predictor)
      std::printf(
          "  TS predictor  Newton iterations per step %.2f from the previous state, %.2f from "
          "the surrogate (%.2fx); %.3g ms vs %.3g ms per trajectory incl. %.3g ms inference "
          "(%.2fx)\n",
          nw->mean_iterations_zero / nw->steps, nw->mean_iterations_guess / nw->steps,
          nw->mean_iterations_zero / nw->mean_iterations_guess, nw->mean_seconds_zero * 1e3,
          nw->mean_seconds_guess * 1e3, nw->mean_seconds_inference * 1e3,
          nw->mean_seconds_zero / nw->mean_seconds_guess);
    else if (e.newton)
      std::printf(
          "  Newton        to rtol %.3g: %.2f iterations from zero, %.2f from the guess "
          "(%.2fx); %.3g ms vs %.3g ms incl. %.3g ms inference (%.2fx)\n",
          nw->rtol, nw->mean_iterations_zero, nw->mean_iterations_guess,
          nw->mean_iterations_zero / nw->mean_iterations_guess, nw->mean_seconds_zero * 1e3,
          nw->mean_seconds_guess * 1e3, nw->mean_seconds_inference * 1e3,
          nw->mean_seconds_zero / nw->mean_seconds_guess);
    if (const auto& ro = e.rollout)
      std::printf(
          "  rollout       %d steps: relative L2 at the last step mean %.4g (p95 %.4g); %.3g ms "
          "per rollout vs PETSc TS %.3g ms (%.2fx)\n",
          ro->steps, ro->final_error.mean, ro->final_error.p95, ro->seconds_single * 1e3,
          ro->seconds_petsc * 1e3, ro->seconds_petsc / ro->seconds_single);
    for (const auto& r : e.refine) {
      std::printf("  refine k=%-3d rel. L2 mean %.4g  %.3g ms/sample", r.k, r.error.mean,
                  r.seconds_per_sample * 1e3);
      if (r.petsc_reached > 0)
        std::printf("; PETSc to the same error %.3g ms (%d of %d samples)\n",
                    r.petsc_seconds_to_same_error * 1e3, r.petsc_reached, solves);
      else
        std::printf("; PETSc never reached it\n");
    }
    std::printf("  wrote %s, %s/report.md\n", report.c_str(), out.c_str());
    std::fflush(stdout);
  });
  return 0;
}

}  // namespace pins::cli
